using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Dstar.Cli.Npy;

/// <summary>
/// The header of a NumPy <c>.npy</c> file (format versions 1.0, 2.0 and 3.0): element type, byte order, memory order
/// and shape, and where the data starts. Layout: the magic <c>\x93NUMPY</c>, a major and a minor version byte, the
/// header length (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), then a Python dict literal such as
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (16, 1000), }</c> padded with spaces and a newline.
/// </summary>
/// <param name="ElementType">float32 or float64.</param>
/// <param name="BigEndian">True when the data is big-endian (<c>&gt;f4</c>, <c>&gt;f8</c>).</param>
/// <param name="Shape">The dimensions, outermost first; empty for a 0-d scalar.</param>
/// <param name="DataOffset">Byte offset of the first element.</param>
public sealed record NpyHeader(NpyElementType ElementType, bool BigEndian, IReadOnlyList<long> Shape, long DataOffset)
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Bytes per element: 4 or 8.</summary>
    public int ElementSize => ElementType == NpyElementType.Float32 ? 4 : 8;

    /// <summary>The shape as Python prints it: <c>(16, 1000)</c>, <c>(1000,)</c> or <c>()</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Formats a shape as Python prints a tuple.</summary>
    public static string FormatShape(IReadOnlyList<long> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0]},)",
        _ => "(" + string.Join(", ", shape) + ")",
    };

    /// <summary>Reads and validates the header at the start of <paramref name="stream"/>, leaving the stream at the data.</summary>
    /// <param name="stream">The file, positioned at its first byte.</param>
    /// <param name="fileName">Used in error messages.</param>
    /// <exception cref="NpyFormatException">
    /// not a .npy file, an unknown version, a truncated or unparsable header, fortran order, or a dtype other than
    /// float32/float64.
    /// </exception>
    public static NpyHeader Read(Stream stream, string fileName)
    {
        Span<byte> prefix = stackalloc byte[8];
        if (ReadAtMost(stream, prefix) < 8 || !prefix[..6].SequenceEqual(Magic))
        {
            throw new NpyFormatException($"{fileName}: not a NumPy .npy file (missing the \\x93NUMPY magic)");
        }

        int major = prefix[6], minor = prefix[7];
        int lengthSize = major switch
        {
            1 => 2,
            2 or 3 => 4,
            _ => throw new NpyFormatException($"{fileName}: unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"),
        };

        Span<byte> lengthBytes = stackalloc byte[4];
        if (ReadAtMost(stream, lengthBytes[..lengthSize]) < lengthSize)
        {
            throw new NpyFormatException($"{fileName}: truncated .npy header");
        }

        long headerLength = lengthSize == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes)
            : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > 1 << 20)
        {
            throw new NpyFormatException($"{fileName}: .npy header claims {headerLength} bytes, which is not plausible");
        }

        var headerBytes = new byte[headerLength];
        if (ReadAtMost(stream, headerBytes) < headerLength)
        {
            throw new NpyFormatException($"{fileName}: truncated .npy header (expected {headerLength} header bytes)");
        }

        var text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var dictionary = HeaderDictionary.Parse(text, fileName);
        var header = Interpret(dictionary, fileName);
        return header with { DataOffset = 6 + 2 + lengthSize + headerLength };
    }

    private static NpyHeader Interpret(IReadOnlyDictionary<string, object> entries, string fileName)
    {
        foreach (var key in new[] { "descr", "fortran_order", "shape" })
        {
            if (!entries.ContainsKey(key))
            {
                throw new NpyFormatException($"{fileName}: .npy header has no '{key}' entry");
            }
        }

        if (entries["descr"] is not string descr)
        {
            throw new NpyFormatException($"{fileName}: structured dtypes are not supported (expected float32 or float64)");
        }

        (NpyElementType type, bool bigEndian) = descr switch
        {
            "<f4" or "=f4" => (NpyElementType.Float32, false),
            "<f8" or "=f8" => (NpyElementType.Float64, false),
            ">f4" => (NpyElementType.Float32, true),
            ">f8" => (NpyElementType.Float64, true),
            _ => throw new NpyFormatException(
                $"{fileName}: dtype '{descr}' is not supported (expected float32 '<f4' or float64 '<f8'; convert with a.astype(np.float32))"),
        };

        if (entries["fortran_order"] is not bool fortran)
        {
            throw new NpyFormatException($"{fileName}: .npy header entry 'fortran_order' must be True or False");
        }

        if (fortran)
        {
            throw new NpyFormatException($"{fileName}: Fortran-order arrays are not supported (save np.ascontiguousarray(a) for C order)");
        }

        if (entries["shape"] is not long[] shape)
        {
            throw new NpyFormatException($"{fileName}: .npy header entry 'shape' must be a tuple of integers");
        }

        return new NpyHeader(type, bigEndian, shape, 0);
    }

    private static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>
    /// A parser for the small subset of Python literal syntax a .npy header uses: a dict with string keys whose values
    /// are strings, True/False, tuples of integers, or (for structured dtypes) lists, which are returned as a marker.
    /// </summary>
    private sealed class HeaderDictionary
    {
        private readonly string _text;
        private readonly string _fileName;
        private int _position;

        private HeaderDictionary(string text, string fileName)
        {
            _text = text;
            _fileName = fileName;
        }

        public static IReadOnlyDictionary<string, object> Parse(string text, string fileName)
        {
            var parser = new HeaderDictionary(text, fileName);
            var result = parser.ParseDictionary();
            parser.SkipSpace();
            if (parser._position != text.Length)
            {
                throw parser.Error("unexpected text after the header dict");
            }

            return result;
        }

        private Dictionary<string, object> ParseDictionary()
        {
            Expect('{');
            var entries = new Dictionary<string, object>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (TryTake('}'))
                {
                    return entries;
                }

                var key = ParseString();
                SkipSpace();
                Expect(':');
                var value = ParseValue();
                if (!entries.TryAdd(key, value))
                {
                    throw Error($"key '{key}' appears twice");
                }

                SkipSpace();
                if (!TryTake(','))
                {
                    SkipSpace();
                    Expect('}');
                    return entries;
                }
            }
        }

        private object ParseValue()
        {
            SkipSpace();
            if (_position >= _text.Length)
            {
                throw Error("the header ends inside a value");
            }

            char c = _text[_position];
            if (c is '\'' or '"')
            {
                return ParseString();
            }

            if (c == '(')
            {
                return ParseTuple();
            }

            if (c == '[')
            {
                SkipBracketed('[', ']');
                return new object();
            }

            if (Take("True"))
            {
                return true;
            }

            if (Take("False"))
            {
                return false;
            }

            throw Error($"unexpected '{c}'");
        }

        private long[] ParseTuple()
        {
            Expect('(');
            var items = new List<long>();
            while (true)
            {
                SkipSpace();
                if (TryTake(')'))
                {
                    return items.ToArray();
                }

                int start = _position;
                while (_position < _text.Length && char.IsAsciiDigit(_text[_position]))
                {
                    _position++;
                }

                // NumPy 1.x wrote Python 2 longs as "3L"; accept the suffix.
                var digits = _text[start.._position];
                TryTake('L');
                if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    throw Error("shape entries must be non-negative integers");
                }

                items.Add(value);
                SkipSpace();
                if (!TryTake(','))
                {
                    SkipSpace();
                    Expect(')');
                    return items.ToArray();
                }
            }
        }

        private string ParseString()
        {
            SkipSpace();
            if (_position >= _text.Length || _text[_position] is not ('\'' or '"'))
            {
                throw Error("expected a quoted string");
            }

            char quote = _text[_position++];
            int end = _text.IndexOf(quote, _position);
            if (end < 0)
            {
                throw Error("unterminated string");
            }

            var value = _text[_position..end];
            _position = end + 1;
            return value;
        }

        private void SkipBracketed(char open, char close)
        {
            int depth = 0;
            do
            {
                if (_position >= _text.Length)
                {
                    throw Error($"unbalanced '{open}'");
                }

                char c = _text[_position++];
                depth += c == open ? 1 : c == close ? -1 : 0;
            }
            while (depth > 0);
        }

        private void SkipSpace()
        {
            while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
            {
                _position++;
            }
        }

        private bool TryTake(char c)
        {
            if (_position < _text.Length && _text[_position] == c)
            {
                _position++;
                return true;
            }

            return false;
        }

        private bool Take(string word)
        {
            if (string.CompareOrdinal(_text, _position, word, 0, word.Length) == 0)
            {
                _position += word.Length;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            SkipSpace();
            if (!TryTake(c))
            {
                throw Error(_position < _text.Length ? $"expected '{c}', found '{_text[_position]}'" : $"expected '{c}', found the end");
            }
        }

        private NpyFormatException Error(string what) =>
            new($"{_fileName}: malformed .npy header ({what} at character {_position})");
    }
}
