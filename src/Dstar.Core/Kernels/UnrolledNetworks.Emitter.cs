using System.Reflection.Emit;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>The IL emitter behind <see cref="UnrolledNetworks"/>: loops, loads, comparators, stores.</summary>
internal static partial class UnrolledNetworks
{
    /// <summary>Emits the pieces of a range: the loop over 16-column blocks and the register arithmetic.</summary>
    private sealed class Emitter
    {
        private readonly ILGenerator _il;
        private readonly LocalBuilder _column;
        private readonly LocalBuilder _check;
        private readonly Label _head;
        private readonly Label _exit;
        private LocalBuilder? _comparatorTemp;
        private LocalBuilder? _storeValue;
        private LocalBuilder? _storeAddress;
        private LocalBuilder? _streamIndex;
        private LocalBuilder? _streamPrevious;
        private LocalBuilder? _streamFirst;
        private LocalBuilder? _streamLast;

        public Emitter(ILGenerator il, int n, int accumulators)
        {
            _il = il;
            _column = il.DeclareLocal(typeof(nint));
            _check = il.DeclareLocal(V);
            Values = Enumerable.Range(0, n).Select(_ => il.DeclareLocal(V)).ToArray();
            Accumulators = Enumerable.Range(0, accumulators).Select(_ => il.DeclareLocal(V)).ToArray();
            _head = il.DefineLabel();
            _exit = il.DefineLabel();
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Stloc, _column);
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Call, Load);
            il.Emit(OpCodes.Stloc, _check);
            for (int r = 0; r < accumulators; r++)
            {
                AccumulatorAddress(r);
                il.Emit(OpCodes.Call, Load);
                il.Emit(OpCodes.Stloc, Accumulators[r]);
            }
        }

        public LocalBuilder[] Values { get; }

        public LocalBuilder[] Accumulators { get; }

        public void LoopHead()
        {
            _il.MarkLabel(_head);
            _il.Emit(OpCodes.Ldloc, _column);
            _il.Emit(OpCodes.Ldc_I4, 16);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Ldarg_2);
            _il.Emit(OpCodes.Bgt, _exit);
        }

        public void LoopTail(int accumulators)
        {
            if (accumulators > 0)
            {
                FlushEvery(accumulators);
            }

            _il.Emit(OpCodes.Ldloc, _column);
            _il.Emit(OpCodes.Ldc_I4, 16);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stloc, _column);
            _il.Emit(OpCodes.Br, _head);
            _il.MarkLabel(_exit);
            if (_streamIndex is not null)
            {
                // The last block the ordinary way (the tail past the last aligned line). The fence that non-temporal
                // stores need before another thread reads them comes once per pass (ColumnTiles), not per range.
                var none = _il.DefineLabel();
                _il.Emit(OpCodes.Ldloc, _streamFirst!);
                _il.Emit(OpCodes.Brtrue, none);
                _il.Emit(OpCodes.Ldloc, _streamPrevious!);
                _il.Emit(OpCodes.Ldloc, _streamLast!);
                _il.Emit(OpCodes.Call, Store);
                _il.MarkLabel(none);
            }

            _il.Emit(OpCodes.Ldloc, _check);
            _il.Emit(OpCodes.Ldarg_S, (byte)4);
            _il.Emit(OpCodes.Call, Store);
            for (int r = 0; r < accumulators; r++)
            {
                _il.Emit(OpCodes.Ldloc, Accumulators[r]);
                AccumulatorAddress(r);
                _il.Emit(OpCodes.Call, Store);
            }

            _il.Emit(OpCodes.Ret);
        }

        /// <summary>Software prefetch of every row a few blocks ahead (see <see cref="KernelSettings.PrefetchFloats"/>).</summary>
        public void PrefetchRows(int n)
        {
            for (int r = 0; r < n && KernelSettings.PrefetchFloats > 0 && Sse.IsSupported; r++)
            {
                RowAddress(r);
                _il.Emit(OpCodes.Ldc_I4, KernelSettings.PrefetchFloats * 4);
                _il.Emit(OpCodes.Add);
                _il.Emit(OpCodes.Call, PrefetchMethod);
            }
        }

        /// <summary>
        /// Runs the network on values[r] = row r, loading each row just before its first comparator (so that with the
        /// recursive comparator order few values are live at once), summing the loads in four chains for the
        /// finiteness check.
        /// </summary>
        public void LoadLazilyAndSort(LocalBuilder[] values, ComparatorNetwork network)
        {
            int n = values.Length;
            var loaded = new bool[n];
            var chains = Enumerable.Range(0, Math.Min(4, n)).Select(_ => _il.DeclareLocal(V)).ToArray();
            foreach (var chain in chains)
            {
                Constant(0f);
                _il.Emit(OpCodes.Stloc, chain);
            }

            void Ensure(int r)
            {
                if (loaded[r])
                {
                    return;
                }

                loaded[r] = true;
                LoadRow(r);
                _il.Emit(OpCodes.Stloc, values[r]);
                _il.Emit(OpCodes.Ldloc, chains[r % chains.Length]);
                _il.Emit(OpCodes.Ldloc, values[r]);
                _il.Emit(OpCodes.Call, Add);
                _il.Emit(OpCodes.Stloc, chains[r % chains.Length]);
            }

            var low = _il.DeclareLocal(V);
            for (int c = 0; c < network.Count; c++)
            {
                int ia = network.Pairs[2 * c], ib = network.Pairs[2 * c + 1];
                Ensure(ia);
                Ensure(ib);
                var a = values[ia];
                var b = values[ib];
                _il.Emit(OpCodes.Ldloc, a);
                _il.Emit(OpCodes.Ldloc, b);
                _il.Emit(OpCodes.Call, Min);
                _il.Emit(OpCodes.Stloc, low);
                _il.Emit(OpCodes.Ldloc, a);
                _il.Emit(OpCodes.Ldloc, b);
                _il.Emit(OpCodes.Call, Max);
                _il.Emit(OpCodes.Stloc, b);
                _il.Emit(OpCodes.Ldloc, low);
                _il.Emit(OpCodes.Stloc, a);
            }

            for (int r = 0; r < n; r++)
            {
                Ensure(r);
            }

            _il.Emit(OpCodes.Ldloc, chains[0]);
            for (int c = 1; c < chains.Length; c++)
            {
                _il.Emit(OpCodes.Ldloc, chains[c]);
                _il.Emit(OpCodes.Call, Add);
            }

            Constant(0f);
            _il.Emit(OpCodes.Ldloc, _check);
            _il.Emit(OpCodes.Call, FusedMultiplyAdd);
            _il.Emit(OpCodes.Stloc, _check);
        }

        /// <summary>Rows sorted together in registers before their extremes are merged into the running lists.</summary>
        public const int GroupRows = 8;

        /// <summary>Pushes the trimmed mean of rows 0..n−1 (see <see cref="EmitTrimmedByExtremes"/>); folds the loads into the check.</summary>
        public void TrimmedMeanByExtremes(int n, int trim)
        {
            int count = trim + 1;
            var low = Locals(count);
            var high = Locals(count);
            var nextLow = Locals(count);
            var nextHigh = Locals(count);
            var group = Locals(GroupRows);
            var chains = Locals(4);
            foreach (var chain in chains)
            {
                Constant(0f);
                _il.Emit(OpCodes.Stloc, chain);
            }

            for (int i = 0; i < count; i++)
            {
                Constant(float.PositiveInfinity);
                _il.Emit(OpCodes.Stloc, low[i]);
                Constant(float.NegativeInfinity);
                _il.Emit(OpCodes.Stloc, high[i]);
            }

            for (int start = 0; start < n; start += GroupRows)
            {
                int g = Math.Min(GroupRows, n - start);
                for (int k = 0; k < g; k++)
                {
                    LoadRow(start + k);
                    _il.Emit(OpCodes.Stloc, group[k]);
                    AddTo(chains[k % chains.Length], group[k]);
                }

                if (g > 1)
                {
                    ApplyNetwork(group, ComparatorNetwork.For(g, 0, g - 1));
                }

                // Half-cleaners: low ascending against the group's smallest descending keeps the lowest `count` of both
                // (as a bitonic sequence); high ascending against the group's largest descending keeps the highest.
                for (int i = 0; i < count; i++)
                {
                    int j = count - 1 - i;
                    _il.Emit(OpCodes.Ldloc, low[i]);
                    if (j < g)
                    {
                        _il.Emit(OpCodes.Ldloc, group[j]);
                        _il.Emit(OpCodes.Call, Min);
                    }

                    _il.Emit(OpCodes.Stloc, nextLow[i]);
                    int top = g - 1 - i;
                    _il.Emit(OpCodes.Ldloc, high[i]);
                    if (top >= 0)
                    {
                        _il.Emit(OpCodes.Ldloc, group[top]);
                        _il.Emit(OpCodes.Call, Max);
                    }

                    _il.Emit(OpCodes.Stloc, nextHigh[i]);
                }

                SortBitonic(nextLow);
                SortBitonic(nextHigh);
                (low, nextLow) = (nextLow, low);
                (high, nextHigh) = (nextHigh, high);
            }

            var sum = _il.DeclareLocal(V);
            SumOf(chains);
            _il.Emit(OpCodes.Stloc, sum);
            CheckLocal(sum);

            var lowKept = low[count - 1];
            var highKept = high[0];
            for (int c = 0; c < chains.Length; c++)
            {
                Constant(0f);
                _il.Emit(OpCodes.Stloc, chains[c]);
            }

            for (int r = 0; r < n; r++)
            {
                // Reloaded from L1: keeping n values live would spill.
                LoadRow(r);
                _il.Emit(OpCodes.Ldloc, lowKept);
                _il.Emit(OpCodes.Call, Max);
                _il.Emit(OpCodes.Ldloc, highKept);
                _il.Emit(OpCodes.Call, Min);
                _il.Emit(OpCodes.Stloc, group[0]);
                AddTo(chains[r % chains.Length], group[0]);
            }

            SumOf(chains);
            _il.Emit(OpCodes.Ldloc, lowKept);
            _il.Emit(OpCodes.Ldloc, highKept);
            _il.Emit(OpCodes.Call, Add);
            Constant(trim);
            _il.Emit(OpCodes.Call, Multiply);
            _il.Emit(OpCodes.Call, Subtract);
            Constant(1f / (n - 2 * trim));
            _il.Emit(OpCodes.Call, Multiply);
        }

        private LocalBuilder[] Locals(int count) => Enumerable.Range(0, count).Select(_ => _il.DeclareLocal(V)).ToArray();

        private void AddTo(LocalBuilder accumulator, LocalBuilder value)
        {
            _il.Emit(OpCodes.Ldloc, accumulator);
            _il.Emit(OpCodes.Ldloc, value);
            _il.Emit(OpCodes.Call, Add);
            _il.Emit(OpCodes.Stloc, accumulator);
        }

        /// <summary>Pushes the sum of the locals, in up to four interleaved chains (independent adds overlap).</summary>
        public void SumOf(LocalBuilder[] locals)
        {
            if (locals.Length > 4)
            {
                var chains = Locals(4);
                for (int c = 0; c < 4; c++)
                {
                    _il.Emit(OpCodes.Ldloc, locals[c]);
                    _il.Emit(OpCodes.Stloc, chains[c]);
                }

                for (int r = 4; r < locals.Length; r++)
                {
                    AddTo(chains[r % 4], locals[r]);
                }

                locals = chains;
            }

            _il.Emit(OpCodes.Ldloc, locals[0]);
            for (int c = 1; c < locals.Length; c++)
            {
                _il.Emit(OpCodes.Ldloc, locals[c]);
                _il.Emit(OpCodes.Call, Add);
            }
        }

        /// <summary>Sorts a bitonic sequence ascending: Batcher's bitonic merger for a power-of-two length, else a full sort.</summary>
        private void SortBitonic(LocalBuilder[] values)
        {
            int m = values.Length;
            if (m == 1)
            {
                return;
            }

            if ((m & (m - 1)) != 0)
            {
                ApplyNetwork(values, ComparatorNetwork.For(m, 0, m - 1));
                return;
            }

            for (int half = m / 2; half >= 1; half /= 2)
            {
                for (int block = 0; block < m; block += 2 * half)
                {
                    for (int i = block; i < block + half; i++)
                    {
                        Compare(values[i], values[i + half]);
                    }
                }
            }
        }

        private void ApplyNetwork(LocalBuilder[] values, ComparatorNetwork network)
        {
            for (int c = 0; c < network.Count; c++)
            {
                Compare(values[network.Pairs[2 * c]], values[network.Pairs[2 * c + 1]]);
            }
        }

        /// <summary>(a, b) ← (min, max).</summary>
        private void Compare(LocalBuilder a, LocalBuilder b)
        {
            _comparatorTemp ??= _il.DeclareLocal(V);
            _il.Emit(OpCodes.Ldloc, a);
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Call, Min);
            _il.Emit(OpCodes.Stloc, _comparatorTemp);
            _il.Emit(OpCodes.Ldloc, a);
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Call, Max);
            _il.Emit(OpCodes.Stloc, b);
            _il.Emit(OpCodes.Ldloc, _comparatorTemp);
            _il.Emit(OpCodes.Stloc, a);
        }

        /// <summary>Pushes the median of values sorted (at the middle ranks) by a median network.</summary>
        public void Median(LocalBuilder[] values, int n)
        {
            if ((n & 1) == 1)
            {
                _il.Emit(OpCodes.Ldloc, values[n / 2]);
                return;
            }

            _il.Emit(OpCodes.Ldloc, values[n / 2 - 1]);
            _il.Emit(OpCodes.Ldloc, values[n / 2]);
            _il.Emit(OpCodes.Call, Add);
            Constant(0.5f);
            _il.Emit(OpCodes.Call, Multiply);
        }

        /// <summary>Same window rule as <see cref="SelectionKernel"/>: pushes the mean of the keep values closest to the median.</summary>
        public void ClosestToMedian(int n, int keep)
        {
            var twiceMedian = _il.DeclareLocal(V);
            var start = _il.DeclareLocal(V);
            var value = _il.DeclareLocal(V);
            Median(Values, n);
            Constant(2f);
            _il.Emit(OpCodes.Call, Multiply);
            _il.Emit(OpCodes.Stloc, twiceMedian);
            Constant(0f);
            _il.Emit(OpCodes.Stloc, start);
            int slack = n - keep;
            for (int s = 0; s < slack; s++)
            {
                // start += (v[s] + v[s + keep] < 2m) ? 1 : 0
                _il.Emit(OpCodes.Ldloc, Values[s]);
                _il.Emit(OpCodes.Ldloc, Values[s + keep]);
                _il.Emit(OpCodes.Call, Add);
                _il.Emit(OpCodes.Ldloc, twiceMedian);
                _il.Emit(OpCodes.Call, LessThan);
                Constant(1f);
                Constant(0f);
                _il.Emit(OpCodes.Call, Select);
                _il.Emit(OpCodes.Ldloc, start);
                _il.Emit(OpCodes.Call, Add);
                _il.Emit(OpCodes.Stloc, start);
            }

            // Four partial totals, so the n adds overlap instead of forming one chain of n add latencies.
            var totals = Locals(Math.Min(4, n));
            foreach (var partial in totals)
            {
                Constant(0f);
                _il.Emit(OpCodes.Stloc, partial);
            }

            for (int r = 0; r < n; r++)
            {
                _il.Emit(OpCodes.Ldloc, Values[r]);
                _il.Emit(OpCodes.Stloc, value);
                if (r < slack)
                {
                    _il.Emit(OpCodes.Ldloc, start); // s ≤ r
                    Constant(r + 0.5f);
                    MaskValue(value);
                }

                if (r >= keep)
                {
                    Constant(r - keep + 0.5f); // s > r − keep
                    _il.Emit(OpCodes.Ldloc, start);
                    MaskValue(value);
                }

                AddTo(totals[r % totals.Length], value);
            }

            SumOf(totals);
            Constant(1f / keep);
            _il.Emit(OpCodes.Call, Multiply);

            // The two operands of a comparison are on the stack: value = a < b ? value : 0.
            void MaskValue(LocalBuilder target)
            {
                _il.Emit(OpCodes.Call, LessThan);
                _il.Emit(OpCodes.Ldloc, target);
                Constant(0f);
                _il.Emit(OpCodes.Call, Select);
                _il.Emit(OpCodes.Stloc, target);
            }
        }

        /// <summary>Pushes Load(rows[r] + column).</summary>
        public void LoadRow(int r)
        {
            RowAddress(r);
            _il.Emit(OpCodes.Call, Load);
        }

        /// <summary>Pushes the sum of rows 0..n−1 at this column, loaded and added in four chains.</summary>
        /// <remarks>
        /// No software prefetch: a light loop like this one issues its loads fast enough for the hardware prefetchers,
        /// and a prefetch per row and block doubled the load operations (measured 0.87× against 1.37× the streaming
        /// read for 16 rows).
        /// </remarks>
        public void SumRows(int n)
        {
            int chains = Math.Min(4, n);
            for (int c = 0; c < chains; c++)
            {
                LoadRow(c);
                for (int r = c + chains; r < n; r += chains)
                {
                    LoadRow(r);
                    _il.Emit(OpCodes.Call, Add);
                }

                if (c > 0)
                {
                    _il.Emit(OpCodes.Call, Add);
                }
            }
        }

        /// <summary>accumulator ← a·b + accumulator, fused (one register-to-register step of a sum of products).</summary>
        public void MultiplyAccumulate(LocalBuilder a, LocalBuilder b, LocalBuilder accumulator)
        {
            _il.Emit(OpCodes.Ldloc, a);
            _il.Emit(OpCodes.Ldloc, b);
            _il.Emit(OpCodes.Ldloc, accumulator);
            _il.Emit(OpCodes.Call, FusedMultiplyAdd);
            _il.Emit(OpCodes.Stloc, accumulator);
        }

        /// <summary>check += local·0 (NaN once the local was ever non-finite).</summary>
        public void CheckLocal(LocalBuilder local)
        {
            _il.Emit(OpCodes.Ldloc, local);
            Constant(0f);
            _il.Emit(OpCodes.Ldloc, _check);
            _il.Emit(OpCodes.Call, FusedMultiplyAdd);
            _il.Emit(OpCodes.Stloc, _check);
        }

        /// <summary>Stores the register on the stack at output + column.</summary>
        /// <remarks>
        /// With <paramref name="streaming"/> (an output written once and not read back soon) the stores are
        /// non-temporal, which skips reading each output line before writing it and keeps the output from evicting the
        /// rows: for 16 rows this took a row mean from about 1.35× to 0.9× the streaming read. Such stores need 64-byte
        /// aligned addresses, while the blocks are aligned to the rows and the output may sit at any offset within its
        /// lines; so each block's result is joined with the previous block's (one two-source permute) into the aligned
        /// line that ends inside this block, and that line is stored. The first block of a range and the last are also
        /// stored the ordinary way, which covers the unaligned ends; overlapping stores write equal values. Every
        /// column is written only after it was read, so an output that is also an input row works too.
        /// </remarks>
        public void StoreResult(bool streaming = false)
        {
            if (!streaming || !Avx512F.IsSupported)
            {
                _il.Emit(OpCodes.Ldarg_3);
                ColumnOffset();
                _il.Emit(OpCodes.Add);
                _il.Emit(OpCodes.Call, Store);
                return;
            }

            if (_streamIndex is null)
            {
                throw new InvalidOperationException("BeginStreamedOutput must be emitted before the loop");
            }

            var value = _storeValue ??= _il.DeclareLocal(V);
            var address = _storeAddress ??= _il.DeclareLocal(typeof(nint));
            var later = _il.DefineLabel();
            var done = _il.DefineLabel();
            _il.Emit(OpCodes.Stloc, value);
            _il.Emit(OpCodes.Ldarg_3);
            ColumnOffset();
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Stloc, address);
            _il.Emit(OpCodes.Ldloc, _streamFirst!);
            _il.Emit(OpCodes.Brfalse, later);
            _il.Emit(OpCodes.Ldloc, value);
            _il.Emit(OpCodes.Ldloc, address);
            _il.Emit(OpCodes.Call, Store);
            _il.Emit(OpCodes.Ldc_I4_0);
            _il.Emit(OpCodes.Stloc, _streamFirst!);
            _il.Emit(OpCodes.Br, done);
            _il.MarkLabel(later);
            _il.Emit(OpCodes.Ldloc, address);
            _il.Emit(OpCodes.Ldc_I4, -64);
            _il.Emit(OpCodes.Conv_I);
            _il.Emit(OpCodes.And);
            _il.Emit(OpCodes.Ldloc, _streamPrevious!);
            _il.Emit(OpCodes.Ldloc, _streamIndex);
            _il.Emit(OpCodes.Ldloc, value);
            _il.Emit(OpCodes.Call, PermuteTwo);
            _il.Emit(OpCodes.Call, StoreNonTemporal);
            _il.MarkLabel(done);
            _il.Emit(OpCodes.Ldloc, value);
            _il.Emit(OpCodes.Stloc, _streamPrevious!);
            _il.Emit(OpCodes.Ldloc, address);
            _il.Emit(OpCodes.Stloc, _streamLast!);
        }

        /// <summary>Sets up streamed stores (see <see cref="StoreResult"/>); emitted once, before <see cref="LoopHead"/>.</summary>
        public void BeginStreamedOutput()
        {
            if (!Avx512F.IsSupported)
            {
                return;
            }

            _streamIndex = _il.DeclareLocal(typeof(Vector512<int>));
            _streamPrevious = _il.DeclareLocal(V);
            _streamFirst = _il.DeclareLocal(typeof(int));
            _streamLast = _il.DeclareLocal(typeof(nint));
            _il.Emit(OpCodes.Ldarg_3);
            _il.Emit(OpCodes.Ldarg_1);
            _il.Emit(OpCodes.Ldc_I4_4);
            _il.Emit(OpCodes.Mul);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Call, StreamIndexMethod);
            _il.Emit(OpCodes.Stloc, _streamIndex);
            _il.Emit(OpCodes.Ldc_I4_1);
            _il.Emit(OpCodes.Stloc, _streamFirst);
        }

        public void Constant(float value)
        {
            _il.Emit(OpCodes.Ldc_R4, value);
            _il.Emit(OpCodes.Call, Broadcast);
        }

        private void RowAddress(int r)
        {
            _il.Emit(OpCodes.Ldarg_0);
            _il.Emit(OpCodes.Ldc_I4, r * IntPtr.Size);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Ldind_I);
            ColumnOffset();
            _il.Emit(OpCodes.Add);
        }

        private void ColumnOffset()
        {
            _il.Emit(OpCodes.Ldloc, _column);
            _il.Emit(OpCodes.Ldc_I4_4);
            _il.Emit(OpCodes.Mul);
        }

        /// <summary>
        /// Every <see cref="FlushBlocks"/> blocks, adds each float accumulator into its row's per-lane double sums (16
        /// doubles per row, after the float accumulators) and clears it: float sums stay short, and no horizontal sum
        /// interrupts the stream of loads (one did, every 64 blocks, when the driver flushed between ranges).
        /// </summary>
        private void FlushEvery(int accumulators)
        {
            var counter = _il.DeclareLocal(typeof(int));
            var skip = _il.DefineLabel();
            _il.Emit(OpCodes.Ldloc, counter);
            _il.Emit(OpCodes.Ldc_I4_1);
            _il.Emit(OpCodes.Add);
            _il.Emit(OpCodes.Dup);
            _il.Emit(OpCodes.Stloc, counter);
            _il.Emit(OpCodes.Ldc_I4, FlushBlocks);
            _il.Emit(OpCodes.Blt, skip);
            for (int r = 0; r < accumulators; r++)
            {
                for (int half = 0; half < 2; half++)
                {
                    DoubleLaneAddress(accumulators, r, half);
                    _il.Emit(OpCodes.Call, LoadDouble);
                    _il.Emit(OpCodes.Ldloc, Accumulators[r]);
                    _il.Emit(OpCodes.Call, half == 0 ? WidenLower : WidenUpper);
                    _il.Emit(OpCodes.Call, AddDouble);
                    DoubleLaneAddress(accumulators, r, half);
                    _il.Emit(OpCodes.Call, StoreDouble);
                }

                Constant(0f);
                _il.Emit(OpCodes.Stloc, Accumulators[r]);
            }

            _il.Emit(OpCodes.Ldc_I4_0);
            _il.Emit(OpCodes.Stloc, counter);
            _il.MarkLabel(skip);
        }

        private void DoubleLaneAddress(int accumulators, int r, int half)
        {
            _il.Emit(OpCodes.Ldarg_S, (byte)5);
            _il.Emit(OpCodes.Ldc_I4, accumulators * 64 + r * 128 + half * 64);
            _il.Emit(OpCodes.Add);
        }

        private void AccumulatorAddress(int r)
        {
            _il.Emit(OpCodes.Ldarg_S, (byte)5);
            _il.Emit(OpCodes.Ldc_I4, r * 64);
            _il.Emit(OpCodes.Add);
        }
    }
}
