// Gemm.Threading.cs - how a GEMM is split over the calling thread and the persistent helper threads (see Gemm.cs).

using System.Diagnostics;

namespace BlurVae.Kernels.Cpu;

internal static unsafe partial class GemmCore<T, TTile> where T : unmanaged, INumber<T> where TTile : struct, IGemmTile<T>
{
    // ------------------------------------------------------------------ multithreading
    //
    // The calling thread (the leader) always works and never waits for helpers to start: helpers join whenever they
    // get a core (see GemmHelpers) and work is claimed dynamically, so a late or busy helper costs nothing but its
    // share. The problem is cut into
    //
    //   phases: one (jc, pc) block each, i.e. a KC x NC block of op(B) packed into a buffer shared by all threads
    //           (two buffers alternate, so the next phase can start while the last units of this one finish);
    //   units:  MCu x NCu blocks of C inside a phase. The thread that claims a unit packs that slice of A itself;
    //           the unit's slice of the B block (NCu columns) is packed by the first thread that needs it, so
    //           B packing is spread over the threads too.
    //
    // Units are sized for about four per thread and phase (load balance on a machine that is shared with other
    // work) while keeping each operand packed about once. A unit of phase t+1 waits for the same unit of phase t
    // (both accumulate into the same block of C), and phase t+1 opens only once phase t-1 is complete (its B buffer
    // is reused), so at most two consecutive phases are ever in flight.

    private sealed class GemmJob : IThreadPoolWorkItem
    {
        private readonly Problem _p;
        private readonly int _threads, _kc, _numPc, _phases, _totalUnits, _maxUnits, _maxSlices;
        private readonly int[] _unitDone;   // [jc parity][unit]: last phase that completed the unit
        private readonly int[] _sliceState; // [buffer][slice]: 2t+1 = being packed for phase t, 2t+2 = ready
        private readonly int[] _phaseDone;  // per phase: completed units
        private readonly nint[] _bufB = new nint[2];
        private long _state;                // (open phase << 32) | tickets handed out in it
        private int _openedPhase;           // highest phase opened (or being opened)
        private int _totalDone;

        public GemmJob(in Problem p, int threads)
        {
            _p = p;
            _threads = threads;
            _kc = KBlock(p.K, out _numPc);
            int numJc = (p.N + NC - 1) / NC;
            _phases = numJc * _numPc;
            for (int jc = 0; jc < numJc; jc++)
            {
                Geometry(jc * NC, out _, out _, out int unitsN, out int units);
                _maxUnits = Math.Max(_maxUnits, units);
                _maxSlices = Math.Max(_maxSlices, unitsN);
                _totalUnits += units * _numPc;
            }

            _unitDone = new int[2 * _maxUnits];
            Array.Fill(_unitDone, -1);
            _sliceState = new int[2 * _maxSlices];
            _phaseDone = new int[_phases];
        }

        /// <summary>Splits the phase's C block (all m rows x nc columns from jc) into units.</summary>
        private void Geometry(int jc, out int mcu, out int ncu, out int unitsN, out int units)
        {
            int m = _p.M, nc = Math.Min(NC, _p.N - jc);
            int target = 4 * _threads;
            int tilesM = (m + MR - 1) / MR, tilesN = (nc + NR - 1) / NR;
            // Columns: a unit's slice of the B block (KC x NCu) should stay in the core's L2 (<= 512 KiB) ...
            int maxPanels = Math.Max(1, 512 * 1024 / (KC * NR * Unsafe.SizeOf<T>()));
            unitsN = (tilesN + maxPanels - 1) / maxPanels;
            // ... rows: enough units for load balance (at least 4 micro-tiles each, at most MC rows) ...
            int unitsM = Math.Max(Math.Min((target + unitsN - 1) / unitsN, (tilesM + 3) / 4), (m + MC - 1) / MC);
            unitsM = Math.Max(1, unitsM);
            mcu = MR * ((tilesM + unitsM - 1) / unitsM);
            unitsM = (m + mcu - 1) / mcu;
            // ... and more column splits when there are too few row blocks (at least 2 micro-panels per unit).
            unitsN = Math.Clamp(Math.Max(unitsN, (target + unitsM - 1) / unitsM), 1, Math.Max(1, tilesN / 2));
            ncu = NR * ((tilesN + unitsN - 1) / unitsN);
            unitsN = (nc + ncu - 1) / ncu;
            units = unitsM * unitsN;
        }

        public void Run()
        {
            int kcMax = Math.Min(_kc, _p.K);
            int ncMax = Math.Min(NC, RoundUp(_p.N, NR));
            int half = RoundUp(ncMax * kcMax, 64);
            T[] buf = GetBuffer(ref t_bufB, 2 * half);
            fixed (T* raw = buf)
            {
                T* b0 = Align64(raw);
                _bufB[0] = (nint)b0;
                _bufB[1] = (nint)(b0 + half);
                Volatile.Write(ref _state, 0); // phase 0 is open
                GemmHelpers.Start(this, Math.Min(_threads, _totalUnits) - 1);
                Participate(leader: true);
            }
        }

        void IThreadPoolWorkItem.Execute() => Participate(leader: false);

        private void Participate(bool leader)
        {
            int mcMax = Math.Min(MC, RoundUp(_p.M, MR));
            T[] bufA = GetBuffer(ref t_bufA, mcMax * Math.Min(_kc, _p.K));
            T* tile = stackalloc T[MR * NR];
            int cachedPhase = -1, cachedRow = -1;
            fixed (T* rawA = bufA)
            {
                T* packA = Align64(rawA);
                while (true)
                {
                    long s = Interlocked.Increment(ref _state);
                    int phase = (int)(s >> 32), ticket = (int)(s & 0xFFFFFFFF) - 1;
                    if (phase >= _phases) return; // finished: a late helper leaves without touching the matrices

                    int jcIndex = phase / _numPc, jc = jcIndex * NC;
                    int pcIndex = phase % _numPc, pc = pcIndex * _kc, kc = Math.Min(_kc, _p.K - pc);
                    Geometry(jc, out int mcu, out int ncu, out int unitsN, out int units);
                    if (ticket < units)
                    {
                        int slice = ticket % unitsN;
                        int ic = ticket / unitsN * mcu, j0 = slice * ncu;
                        int mc = Math.Min(mcu, _p.M - ic), nc = Math.Min(ncu, Math.Min(NC, _p.N - jc) - j0);
                        T* packB = (T*)_bufB[phase & 1] + (nint)j0 * kc;

                        // This unit's slice of B: pack it, or wait for the thread that is packing it.
                        ref int sliceState = ref _sliceState[(phase & 1) * _maxSlices + slice];
                        int seen = Volatile.Read(ref sliceState);
                        if (seen < 2 * phase + 1 && Interlocked.CompareExchange(ref sliceState, 2 * phase + 1, seen) == seen)
                        {
                            PackB(in _p, pc, jc + j0, kc, nc, packB);
                            Volatile.Write(ref sliceState, 2 * phase + 2);
                        }
                        else
                        {
                            var spin = new SpinWait();
                            while (Volatile.Read(ref sliceState) != 2 * phase + 2) spin.SpinOnce(-1);
                        }

                        if (cachedPhase != phase || cachedRow != ic)
                        {
                            PackA(in _p, ic, pc, mc, kc, packA);
                            cachedPhase = phase;
                            cachedRow = ic;
                        }

                        // The same block of C from the previous k block must be finished.
                        ref int done = ref _unitDone[(jcIndex & 1) * _maxUnits + ticket];
                        if (pcIndex > 0)
                        {
                            var spin = new SpinWait();
                            while (Volatile.Read(ref done) != phase - 1) spin.SpinOnce(-1);
                        }

                        int mode = pcIndex == 0 ? GemmMode.First(_p.Beta) : GemmMode.Add;
                        Block(in _p, ic, mc, jc + j0, nc, pc, kc, packA, packB, mode, tile);
                        Volatile.Write(ref done, phase);
                        Interlocked.Increment(ref _phaseDone[phase]);
                        Interlocked.Increment(ref _totalDone);
                        continue;
                    }

                    // No tickets left in this phase. The first thread here opens the next phase, once phase - 1 is
                    // complete (the next phase re-uses its B buffer).
                    if (phase + 1 < _phases)
                    {
                        if (Interlocked.CompareExchange(ref _openedPhase, phase + 1, phase) == phase)
                        {
                            if (phase >= 1)
                            {
                                Geometry((phase - 1) / _numPc * NC, out _, out _, out _, out int previousUnits);
                                var spin = new SpinWait();
                                while (Volatile.Read(ref _phaseDone[phase - 1]) != previousUnits) spin.SpinOnce(-1);
                            }

                            Interlocked.Exchange(ref _state, (long)(phase + 1) << 32);
                        }
                        else
                        {
                            var spin = new SpinWait();
                            while ((int)(Volatile.Read(ref _state) >> 32) == phase) spin.SpinOnce(-1);
                        }

                        continue;
                    }

                    if (!leader) return;
                    // The leader returns only when every unit is done: the matrices are pinned by its frame.
                    var wait = new SpinWait();
                    while (Volatile.Read(ref _totalDone) != _totalUnits) wait.SpinOnce(-1);
                    Interlocked.Exchange(ref _state, (long)_phases << 32);
                    return;
                }
            }
        }
    }
}

/// <summary>
/// Helper threads for <see cref="Gemm"/>. Dedicated background threads rather than the thread pool because of
/// wake-up latency: a blocked thread can take 0.1-2 ms to start running again (measured on the 2-vCPU development
/// VM), a large fraction of a typical call. After each job a helper keeps polling for the next one for about a
/// millisecond (yielding the core to any other runnable thread) before it blocks, so back-to-back calls, the usual
/// pattern in a network, find it awake. Callers never depend on a helper showing up (they claim work dynamically),
/// so a helper that is busy is given the job as its next one, or skipped (for the thread pool, or for nobody) when
/// it holds a next job already.
/// </summary>
internal static class GemmHelpers
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;
    private static readonly object Gate = new();
    private static Helper[] s_helpers = Array.Empty<Helper>();

    /// <summary>
    /// Offers the job to <paramref name="count"/> helpers; where none is free it goes to the thread pool if
    /// <paramref name="poolFallback"/> (a GEMM's job works there), else it is dropped (a loop's job: the caller does the rest).
    /// </summary>
    public static void Start(IThreadPoolWorkItem job, int count, bool poolFallback = true)
    {
        Helper[] helpers = Volatile.Read(ref s_helpers);
        if (helpers.Length < count) helpers = Grow(count);
        int started = 0;
        for (int i = 0; i < helpers.Length && started < count; i++)
        {
            if (helpers[i].TryPost(job)) started++;
        }

        if (!poolFallback) return;
        for (; started < count; started++) ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
    }

    private static Helper[] Grow(int count)
    {
        lock (Gate)
        {
            Helper[] helpers = s_helpers;
            if (helpers.Length >= count) return helpers;
            var grown = new Helper[count];
            Array.Copy(helpers, grown, helpers.Length);
            for (int i = helpers.Length; i < count; i++) grown[i] = new Helper(i);
            Volatile.Write(ref s_helpers, grown);
            return grown;
        }
    }

    private sealed class Helper
    {
        private readonly SemaphoreSlim _wake = new(0);
        // Two slots: the job being run and the next one. A loop that follows another at once finds the helper still
        // leaving the last job (its caller finished every chunk first); with one slot that post failed and went to
        // the thread pool, where a loop's job does nothing and a GEMM's adds a third thread on two cores (~50 of a
        // fashion32 step's 85 loops). Jobs are hints: every caller finishes its work itself, so a job run late
        // finds nothing left and returns at once.
        private IThreadPoolWorkItem? _job, _next;
        private int _sleeping;

        public Helper(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"BlurVae GEMM helper {index}" };
            thread.Start();
        }

        /// <summary>Hands the job to this helper if one of its slots is free.</summary>
        public bool TryPost(IThreadPoolWorkItem job)
        {
            if (Interlocked.CompareExchange(ref _job, job, null) != null && Interlocked.CompareExchange(ref _next, job, null) != null) return false;
            // Full fence (the CAS) before reading _sleeping; the helper fences between setting _sleeping and
            // re-reading the slots, so at least one side sees the other and the wake-up cannot be lost.
            if (Volatile.Read(ref _sleeping) != 0) _wake.Release();
            return true;
        }

        private void Loop()
        {
            long lastWork = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (true)
            {
                IThreadPoolWorkItem? job = Volatile.Read(ref _job);
                if (job != null)
                {
                    job.Execute();
                    Volatile.Write(ref _job, null);
                }
                else if ((job = Interlocked.Exchange(ref _next, null)) != null) job.Execute();
                if (job != null)
                {
                    lastWork = Stopwatch.GetTimestamp();
                    spin.Reset();
                    continue;
                }

                if (Stopwatch.GetTimestamp() - lastWork < SpinTicks)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref _job) == null && Volatile.Read(ref _next) == null) _wake.Wait();
                Interlocked.Exchange(ref _sleeping, 0);
                lastWork = Stopwatch.GetTimestamp();
                spin.Reset();
            }
        }
    }
}
