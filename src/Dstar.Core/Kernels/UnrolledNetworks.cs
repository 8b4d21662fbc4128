using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>
/// Processes whole 16-column blocks in [start, end): rows[i] + column are the inputs, output + column the result,
/// check a running finiteness register, accumulators one register per row (deviation sums), both read on entry and
/// written back on exit.
/// </summary>
internal unsafe delegate void UnrolledRange(float** rows, nint start, nint end, float* output, float* check, float* accumulators);

/// <summary>
/// Comparator networks compiled, once per (n, task), into straight-line code over AVX-512 registers: every input is a
/// local, so the network runs in registers instead of bouncing through memory (the interpreted network in
/// <see cref="ColumnKernelParts.Sort{TLanes, TVec}"/> is limited by store-to-load forwarding, about 3× slower).
/// Used only when <see cref="Vector512.IsHardwareAccelerated"/>; other widths use the generic kernels.
/// </summary>
/// <remarks>
/// The code is emitted as a <see cref="DynamicMethod"/> (jitted fully optimised on first use) because a network's shape
/// depends on n, which is only known at run time. Compiled ranges are kept in a table and named by index, so the
/// unmanaged kernel structs can refer to them.
/// </remarks>
internal static class UnrolledNetworks
{
    /// <summary>Largest n compiled; past it register pressure makes the interpreted network as good.</summary>
    public const int MaxInputs = 96;

    private static readonly List<UnrolledRange> Table = new();
    private static readonly Dictionary<(int Kind, int N, int A, int B, float Scale), int> Index = new();

    private static readonly Type V = typeof(Vector512<float>);
    private static readonly MethodInfo Load = Generic("Load", 1);
    private static readonly MethodInfo Store = Generic("Store", 2);
    private static readonly MethodInfo Min = Generic("MinNative", 2);
    private static readonly MethodInfo Max = Generic("MaxNative", 2);
    private static readonly MethodInfo LessThan = Generic("LessThan", 2);
    private static readonly MethodInfo Select = Generic("ConditionalSelect", 3);
    private static readonly MethodInfo Add = V.GetMethod("op_Addition", [V, V])!;
    private static readonly MethodInfo Subtract = V.GetMethod("op_Subtraction", [V, V])!;
    private static readonly MethodInfo Multiply = V.GetMethod("op_Multiply", [V, V])!;
    private static readonly MethodInfo Broadcast = typeof(Vector512).GetMethod("Create", [typeof(float)])!;
    private static readonly MethodInfo PrefetchMethod = typeof(Sse).GetMethod("Prefetch0", [typeof(void*)])!;
    private static readonly MethodInfo StoreNonTemporal = typeof(Avx512F).GetMethod("StoreAlignedNonTemporal", [typeof(float*), V])!;
    private static readonly MethodInfo PermuteTwo = typeof(Avx512F).GetMethod("PermuteVar16x32x2", [V, typeof(Vector512<int>), V])!;
    private static readonly MethodInfo StreamIndexMethod = typeof(UnrolledNetworks).GetMethod(nameof(StreamIndex), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly Type VD = typeof(Vector512<double>);
    private static readonly MethodInfo LoadDouble = Load.GetGenericMethodDefinition().MakeGenericMethod(typeof(double));
    private static readonly MethodInfo StoreDouble = Store.GetGenericMethodDefinition().MakeGenericMethod(typeof(double));
    private static readonly MethodInfo AddDouble = VD.GetMethod("op_Addition", [VD, VD])!;
    private static readonly MethodInfo WidenLower = typeof(Vector512).GetMethod("WidenLower", [V])!;
    private static readonly MethodInfo WidenUpper = typeof(Vector512).GetMethod("WidenUpper", [V])!;

    /// <summary>Blocks a float accumulator sums (per lane) before compiled code moves it into doubles.</summary>
    public const int FlushBlocks = 64;

    private static readonly MethodInfo FusedMultiplyAdd = typeof(Vector512).GetMethod("FusedMultiplyAdd", [V, V, V])!;

    /// <summary>
    /// The permutation that joins the previous block's result (lanes 16 − s … 15) with this block's (lanes 0 … 15 − s)
    /// into the aligned output line that starts s floats before this block, s = the block's offset within its line.
    /// </summary>
    private static Vector512<int> StreamIndex(nint address) =>
        Vector512<int>.Indices + Vector512.Create(16 - (int)((address & 63) >> 2));

    /// <summary>Whether compiled networks are used (AVX-512 present and not switched off for tests).</summary>
    public static bool Enabled { get; set; } = Vector512.IsHardwareAccelerated && RuntimeFeature.IsDynamicCodeCompiled;

    /// <summary>The compiled range at <paramref name="id"/>.</summary>
    public static UnrolledRange Get(int id)
    {
        lock (Table)
        {
            return Table[id];
        }
    }

    /// <summary>A compiled selection (median, rank mean or closest-to-median) over n rows, or −1 when not available.</summary>
    /// <remarks>
    /// <paramref name="streaming"/>: the output is written with non-temporal stores (see <see cref="Emitter.StoreResult"/>);
    /// false when the caller reads it back at once.
    /// </remarks>
    public static int Selection(int n, SelectionMode mode, int low, int high, ComparatorNetwork network, bool streaming = true)
    {
        if (!Enabled || n > MaxInputs)
        {
            return -1;
        }

        bool byExtremes = TrimsByExtremes(n, mode, low, high);
        var key = ((byExtremes ? 5 : 0) + (streaming ? 0 : 16), n, (int)mode * 65536 + low, high, 0f);
        return Find(key) ?? Register(key, byExtremes ? EmitTrimmedByExtremes(n, low) : EmitSelection(n, mode, low, high, network, streaming));
    }

    /// <summary>Most values trimmed from each end for which <see cref="EmitTrimmedByExtremes"/> is used.</summary>
    public const int MaxExtremeTrim = 7;

    /// <summary>Fewest rows for which a trimmed mean tracks the extremes instead of running the rank network (tests lower it).</summary>
    internal static int ExtremesMinRows { get; set; } = 24;

    /// <summary>True when a symmetric trimmed mean of n rows is cheaper by tracking its trim + 1 extremes per side.</summary>
    internal static bool TrimsByExtremes(int n, SelectionMode mode, int low, int high) =>
        mode == SelectionMode.RankMean && low >= 1 && low <= MaxExtremeTrim && high == n - 1 - low && n >= ExtremesMinRows;

    /// <summary>
    /// A compiled median of n rows, or −1: the plain median network, or — when cheaper — the network for the middle
    /// ranks of the first n − 1 rows with the last row inserted afterwards (<see cref="EmitMedianInserting"/>).
    /// </summary>
    public static int Median(int n, bool streaming = true)
    {
        if (!Enabled || n > MaxInputs)
        {
            return -1;
        }

        var full = ComparatorNetwork.Median(n);
        var inserting = n >= 2 ? InsertionNetwork(n - 1) : null;
        if (inserting is null || inserting.Count + 2 >= full.Count)
        {
            return Selection(n, SelectionMode.Median, (n - 1) / 2, n / 2, full, streaming);
        }

        var key = (streaming ? 1 : 17, n, 0, 0, 0f);
        return Find(key) ?? Register(key, EmitMedianInserting(n, inserting, streaming));
    }

    /// <summary>The ranks of m sorted values that decide the median once one more value is inserted.</summary>
    private static ComparatorNetwork InsertionNetwork(int m)
    {
        if (m % 2 == 0)
        {
            return ComparatorNetwork.For(m, m / 2 - 1, m / 2);
        }

        int k = (m - 1) / 2;
        return ComparatorNetwork.For(m, Math.Max(0, k - 1), Math.Min(m - 1, k + 1));
    }

    /// <summary>A compiled (Σ rows)·scale over n rows, or −1.</summary>
    public static int RowSum(int n, float scale, bool streaming = true) =>
        !Enabled || n > MaxInputs ? -1 : Find((streaming ? 2 : 18, n, 0, 0, scale)) ?? Register((streaming ? 2 : 18, n, 0, 0, scale), EmitRowSum(n, scale, streaming));

    /// <summary>A compiled Σ (xᵢ − c)² pass with c = rows[n] (given) or 0, or −1.</summary>
    public static int FixedCenterDeviations(int n, bool given) =>
        !Enabled || n > MaxInputs ? -1 : Find((3, n, given ? 1 : 0, 0, 0)) ?? Register((3, n, given ? 1 : 0, 0, 0), EmitFixedCenter(n, given));

    /// <summary>A compiled c + Σ wᵢ (xᵢ − c) with c = rows[n] and wᵢ read from the accumulators argument, or −1.</summary>
    public static int Step(int n, bool streaming = true) =>
        !Enabled || n > MaxInputs ? -1 : Find((streaming ? 4 : 20, n, 0, 0, 0)) ?? Register((streaming ? 4 : 20, n, 0, 0, 0), EmitStep(n, streaming));

    private static UnrolledRange EmitRowSum(int n, float scale, bool streaming)
    {
        var (method, il, e) = Begin($"sum{n}", 0, 0);
        if (streaming)
        {
            e.BeginStreamedOutput();
        }

        e.LoopHead();
        e.SumRows(n);
        var sum = il.DeclareLocal(V);
        il.Emit(OpCodes.Stloc, sum);
        e.CheckLocal(sum);
        il.Emit(OpCodes.Ldloc, sum);
        e.Constant(scale);
        il.Emit(OpCodes.Call, Multiply);
        e.StoreResult(streaming);
        e.LoopTail(0);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    private static UnrolledRange EmitFixedCenter(int n, bool given)
    {
        var (method, il, e) = Begin($"fixed{n}", 0, n);
        e.LoopHead();
        var center = il.DeclareLocal(V);
        if (given)
        {
            e.LoadRow(n);
        }
        else
        {
            e.Constant(0f);
        }

        il.Emit(OpCodes.Stloc, center);
        var diff = il.DeclareLocal(V);
        for (int r = 0; r < n; r++)
        {
            // Non-finite rows show up as non-finite sums, so no separate check is needed here.
            e.LoadRow(r);
            il.Emit(OpCodes.Ldloc, center);
            il.Emit(OpCodes.Call, Subtract);
            il.Emit(OpCodes.Stloc, diff);
            il.Emit(OpCodes.Ldloc, diff);
            il.Emit(OpCodes.Ldloc, diff);
            il.Emit(OpCodes.Ldloc, e.Accumulators[r]);
            il.Emit(OpCodes.Call, FusedMultiplyAdd);
            il.Emit(OpCodes.Stloc, e.Accumulators[r]);
        }

        e.LoopTail(n);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    private static UnrolledRange EmitStep(int n, bool streaming)
    {
        var (method, il, e) = Begin($"step{n}", 0, 0);
        var weights = new LocalBuilder[n];
        for (int r = 0; r < n; r++)
        {
            weights[r] = il.DeclareLocal(V);
            il.Emit(OpCodes.Ldarg_S, (byte)5);
            il.Emit(OpCodes.Ldc_I4, r * 4);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Ldind_R4);
            il.Emit(OpCodes.Call, Broadcast);
            il.Emit(OpCodes.Stloc, weights[r]);
        }

        if (streaming)
        {
            e.BeginStreamedOutput();
        }

        e.LoopHead();
        var center = il.DeclareLocal(V);
        e.LoadRow(n);
        il.Emit(OpCodes.Stloc, center);
        var chains = new[] { il.DeclareLocal(V), il.DeclareLocal(V) };
        foreach (var chain in chains)
        {
            e.Constant(0f);
            il.Emit(OpCodes.Stloc, chain);
        }

        for (int r = 0; r < n; r++)
        {
            e.LoadRow(r);
            il.Emit(OpCodes.Ldloc, center);
            il.Emit(OpCodes.Call, Subtract);
            il.Emit(OpCodes.Ldloc, weights[r]);
            il.Emit(OpCodes.Ldloc, chains[r & 1]);
            il.Emit(OpCodes.Call, FusedMultiplyAdd);
            il.Emit(OpCodes.Stloc, chains[r & 1]);
        }

        il.Emit(OpCodes.Ldloc, center);
        il.Emit(OpCodes.Ldloc, chains[0]);
        il.Emit(OpCodes.Ldloc, chains[1]);
        il.Emit(OpCodes.Call, Add);
        il.Emit(OpCodes.Call, Add);
        e.StoreResult(streaming);
        e.LoopTail(0);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    // Lookups by a value key (no allocation once compiled); emission happens once per key, outside the lock.
    private static int? Find((int, int, int, int, float) key)
    {
        lock (Table)
        {
            return Index.TryGetValue(key, out int id) ? id : null;
        }
    }

    private static int Register((int, int, int, int, float) key, UnrolledRange range)
    {
        lock (Table)
        {
            if (!Index.TryGetValue(key, out int id))
            {
                id = Table.Count;
                Table.Add(range);
                Index.Add(key, id);
            }

            return id;
        }
    }

    private static MethodInfo Generic(string name, int parameters) =>
        typeof(Vector512).GetMethods()
            .Single(m => m.Name == name && m.IsGenericMethodDefinition && m.GetParameters().Length == parameters
                && (parameters == 1 || m.GetParameters()[0].ParameterType.IsGenericType))
            .MakeGenericMethod(typeof(float));

    private static UnrolledRange EmitSelection(int n, SelectionMode mode, int low, int high, ComparatorNetwork network, bool streaming)
    {
        var (method, il, e) = Begin($"select{n}{mode}", n, 0);
        if (streaming)
        {
            e.BeginStreamedOutput();
        }

        e.LoopHead();
        e.PrefetchRows(n);
        e.LoadLazilyAndSort(e.Values, network);
        switch (mode)
        {
            case SelectionMode.Median:
                e.Median(e.Values, n);
                break;
            case SelectionMode.RankMean:
                e.SumOf(e.Values[low..(high + 1)]);

                e.Constant(1f / (high - low + 1));
                il.Emit(OpCodes.Call, Multiply);
                break;
            default:
                e.ClosestToMedian(n, low);
                break;
        }

        e.StoreResult(streaming);
        e.LoopTail(0);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    /// <summary>
    /// Trimmed mean of n rows with trim t, without a rank network: rows are taken in groups of
    /// <see cref="Emitter.GroupRows"/>, each group is sorted in registers, and its t + 1 smallest and t + 1 largest are
    /// merged into two running sorted lists (a bitonic half-cleaner plus a bitonic sort of t + 1 values, Batcher 1968).
    /// The last of each list are L = rank t and H = rank n − t − 1, the kept extremes, and
    /// Σ kept = Σᵢ clamp(xᵢ, L, H) − t·(L + H): values below rank t clamp to L and values above rank n − t − 1 to H.
    /// Every clamped value lies in [L, H], so huge dropped values never enter a sum (no cancellation), and with ties the
    /// identity still holds because it counts ranks, not distinct values. About 12 min/max/add per value for t = 3,
    /// against about 17 (and register spills) for the rank network at n = 64.
    /// </summary>
    private static UnrolledRange EmitTrimmedByExtremes(int n, int trim)
    {
        var (method, _, e) = Begin($"trim{n}by{trim}", 0, 0);
        e.BeginStreamedOutput();
        e.LoopHead();
        e.PrefetchRows(n);
        e.TrimmedMeanByExtremes(n, trim);
        e.StoreResult(streaming: true);
        e.LoopTail(0);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    /// <summary>
    /// The median of n rows as the median of m = n − 1 rows with row m (y) inserted: with x the first m sorted, for even
    /// m the median is clamp(y, x[m/2 − 1], x[m/2]); for odd m, with k = (m − 1)/2, the two middle values are
    /// max(x[k − 1], min(y, x[k])) and min(x[k + 1], max(y, x[k])), averaged. These are exact order statistics, so the
    /// result equals the plain network's bit for bit, and the network needs only the ranks around the middle of m values
    /// (53 comparators instead of 70 for n = 17: dSTAR's 16 workers plus g₀).
    /// </summary>
    private static UnrolledRange EmitMedianInserting(int n, ComparatorNetwork network, bool streaming)
    {
        int m = n - 1;
        var (method, il, e) = Begin($"median{n}inserting", n, 0);
        if (streaming)
        {
            e.BeginStreamedOutput();
        }

        e.LoopHead();
        e.PrefetchRows(n);
        var x = e.Values[..m];
        e.LoadLazilyAndSort(x, network);
        var y = e.Values[m];
        e.LoadRow(m);
        il.Emit(OpCodes.Stloc, y);
        e.CheckLocal(y);
        if (m % 2 == 0)
        {
            il.Emit(OpCodes.Ldloc, y);
            il.Emit(OpCodes.Ldloc, x[m / 2 - 1]);
            il.Emit(OpCodes.Call, Max);
            il.Emit(OpCodes.Ldloc, x[m / 2]);
            il.Emit(OpCodes.Call, Min);
        }
        else
        {
            int k = (m - 1) / 2;
            il.Emit(OpCodes.Ldloc, y);
            il.Emit(OpCodes.Ldloc, x[k]);
            il.Emit(OpCodes.Call, Min);
            if (k >= 1)
            {
                il.Emit(OpCodes.Ldloc, x[k - 1]);
                il.Emit(OpCodes.Call, Max);
            }

            il.Emit(OpCodes.Ldloc, y);
            il.Emit(OpCodes.Ldloc, x[k]);
            il.Emit(OpCodes.Call, Max);
            if (k + 1 <= m - 1)
            {
                il.Emit(OpCodes.Ldloc, x[k + 1]);
                il.Emit(OpCodes.Call, Min);
            }

            il.Emit(OpCodes.Call, Add);
            e.Constant(0.5f);
            il.Emit(OpCodes.Call, Multiply);
        }

        e.StoreResult(streaming);
        e.LoopTail(0);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    private static (DynamicMethod Method, ILGenerator Il, Emitter E) Begin(string name, int n, int accumulators)
    {
        var method = new DynamicMethod(name, typeof(void),
            [typeof(float**), typeof(nint), typeof(nint), typeof(float*), typeof(float*), typeof(float*)],
            typeof(UnrolledNetworks).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        return (method, il, new Emitter(il, n, accumulators));
    }

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

        /// <summary>Software prefetch of every row a few blocks ahead (see <see cref="Kernels.Prefetch"/>).</summary>
        public void PrefetchRows(int n)
        {
            for (int r = 0; r < n && Kernels.Prefetch.Floats > 0 && Sse.IsSupported; r++)
            {
                RowAddress(r);
                _il.Emit(OpCodes.Ldc_I4, Kernels.Prefetch.Floats * 4);
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
