using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dstar.Core.Kernels;

/// <summary>
/// Comparator networks compiled, once per (n, task), into straight-line code over AVX-512 registers: every input is a
/// local, so the network runs in registers instead of bouncing through memory (the interpreted network in
/// <see cref="ColumnKernelParts.Sort{TLanes, TVec}"/> is limited by store-to-load forwarding; see docs/benchmarks.md,
/// "Kernel design notes").
/// Used only when <see cref="Vector512.IsHardwareAccelerated"/>; other widths use the generic kernels.
/// </summary>
/// <remarks>
/// The code is emitted as a <see cref="DynamicMethod"/> (jitted fully optimised on first use) because a network's shape
/// depends on n, which is only known at run time. Compiled ranges are kept in a table and named by index, so the
/// unmanaged kernel structs can refer to them.
/// </remarks>
internal static partial class UnrolledNetworks
{
    /// <summary>Largest n compiled; past it register pressure makes the interpreted network as good.</summary>
    public const int MaxInputs = 96;

    private static readonly List<UnrolledRange> Table = new();
    private static readonly Dictionary<UnrolledNetworkKey, int> Index = new();

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
        if (!Available(n))
        {
            return -1;
        }

        bool byExtremes = TrimsByExtremes(n, mode, low, high);
        var key = new UnrolledNetworkKey(byExtremes ? UnrolledTask.TrimmedByExtremes : UnrolledTask.Selection, n, streaming, mode, low, high);
        return Find(key) ?? Register(key, byExtremes ? EmitTrimmedByExtremes(n, low) : EmitSelection(n, mode, low, high, network, streaming));
    }

    /// <summary>Most values trimmed from each end for which <see cref="EmitTrimmedByExtremes"/> is used.</summary>
    public const int MaxExtremeTrim = 7;

    /// <summary>True when a symmetric trimmed mean of n rows is cheaper by tracking its trim + 1 extremes per side.</summary>
    internal static bool TrimsByExtremes(int n, SelectionMode mode, int low, int high) =>
        mode == SelectionMode.RankMean && low >= 1 && low <= MaxExtremeTrim && high == n - 1 - low && n >= KernelSettings.ExtremesMinRows;

    /// <summary>
    /// A compiled median of n rows, or −1: the plain median network, or — when cheaper — the network for the middle
    /// ranks of the first n − 1 rows with the last row inserted afterwards (<see cref="EmitMedianInserting"/>).
    /// </summary>
    public static int Median(int n, bool streaming = true)
    {
        if (!Available(n))
        {
            return -1;
        }

        var full = ComparatorNetwork.Median(n);
        var inserting = n >= 2 ? InsertionNetwork(n - 1) : null;
        if (inserting is null || inserting.Count + 2 >= full.Count)
        {
            return Selection(n, SelectionMode.Median, (n - 1) / 2, n / 2, full, streaming);
        }

        var key = new UnrolledNetworkKey(UnrolledTask.MedianInserting, n, streaming);
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
    public static int RowSum(int n, float scale, bool streaming = true)
    {
        var key = new UnrolledNetworkKey(UnrolledTask.RowSum, n, streaming, Scale: scale);
        return !Available(n) ? -1 : Find(key) ?? Register(key, EmitRowSum(n, scale, streaming));
    }

    /// <summary>A compiled Σ (xᵢ − c)² pass with c = rows[n] (given) or 0, or −1.</summary>
    public static int FixedCenterDeviations(int n, bool given)
    {
        var key = new UnrolledNetworkKey(UnrolledTask.FixedCenterDeviations, n, Streaming: false, GivenCenter: given);
        return !Available(n) ? -1 : Find(key) ?? Register(key, EmitFixedCenter(n, given));
    }

    /// <summary>A compiled Σ xᵢ² and Σ xᵢ·y pass with y = rows[n] (accumulators: the n squares, then the n dots), or −1.</summary>
    public static int NormsAndDots(int n)
    {
        var key = new UnrolledNetworkKey(UnrolledTask.NormsAndDots, n, Streaming: false);
        return !Available(n) ? -1 : Find(key) ?? Register(key, EmitNormsAndDots(n));
    }

    /// <summary>
    /// A compiled c + Σ wᵢ (xᵢ − c) with c = rows[n] (or Σ wᵢ xᵢ when not <paramref name="centered"/>) and wᵢ read from
    /// the accumulators argument, or −1.
    /// </summary>
    public static int Step(int n, bool streaming = true, bool centered = true)
    {
        var key = new UnrolledNetworkKey(UnrolledTask.Step, n, streaming, GivenCenter: centered);
        return !Available(n) ? -1 : Find(key) ?? Register(key, EmitStep(n, streaming, centered));
    }

    // Compiled ranges are on and n is within MaxInputs.
    private static bool Available(int n) => KernelSettings.UnrolledNetworks && n <= MaxInputs;

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
            e.MultiplyAccumulate(diff, diff, e.Accumulators[r]);
        }

        e.LoopTail(n);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    private static UnrolledRange EmitNormsAndDots(int n)
    {
        var (method, il, e) = Begin($"normsdots{n}", 0, 2 * n);
        e.LoopHead();

        // Unlike the row sum, this pass gains from software prefetch: 17 streams (16 rows and y) at 0.98× a streaming
        // read with it against 1.13–1.32× without (n = 16 and 64, d = 10⁶, docs/benchmarks.md "dSTAR+ options").
        e.PrefetchRows(n + 1);

        var y = il.DeclareLocal(V);
        e.LoadRow(n);
        il.Emit(OpCodes.Stloc, y);
        var x = il.DeclareLocal(V);
        for (int r = 0; r < n; r++)
        {
            // Non-finite rows show up as non-finite sums, so no separate check is needed here.
            e.LoadRow(r);
            il.Emit(OpCodes.Stloc, x);
            e.MultiplyAccumulate(x, x, e.Accumulators[r]);
            e.MultiplyAccumulate(x, y, e.Accumulators[n + r]);
        }

        e.LoopTail(2 * n);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    private static UnrolledRange EmitStep(int n, bool streaming, bool centered)
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
        if (centered)
        {
            e.LoadRow(n);
            il.Emit(OpCodes.Stloc, center);
        }

        var chains = new[] { il.DeclareLocal(V), il.DeclareLocal(V) };
        foreach (var chain in chains)
        {
            e.Constant(0f);
            il.Emit(OpCodes.Stloc, chain);
        }

        for (int r = 0; r < n; r++)
        {
            e.LoadRow(r);
            if (centered)
            {
                il.Emit(OpCodes.Ldloc, center);
                il.Emit(OpCodes.Call, Subtract);
            }

            il.Emit(OpCodes.Ldloc, weights[r]);
            il.Emit(OpCodes.Ldloc, chains[r & 1]);
            il.Emit(OpCodes.Call, FusedMultiplyAdd);
            il.Emit(OpCodes.Stloc, chains[r & 1]);
        }

        if (centered)
        {
            il.Emit(OpCodes.Ldloc, center);
        }

        il.Emit(OpCodes.Ldloc, chains[0]);
        il.Emit(OpCodes.Ldloc, chains[1]);
        il.Emit(OpCodes.Call, Add);
        if (centered)
        {
            il.Emit(OpCodes.Call, Add);
        }

        e.StoreResult(streaming);
        e.LoopTail(0);
        return (UnrolledRange)method.CreateDelegate(typeof(UnrolledRange));
    }

    // Lookups by a value key (no allocation once compiled); emission happens once per key, outside the lock.
    private static int? Find(UnrolledNetworkKey key)
    {
        lock (Table)
        {
            return Index.TryGetValue(key, out int id) ? id : null;
        }
    }

    private static int Register(UnrolledNetworkKey key, UnrolledRange range)
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
}
