namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    // expf (a few ulp) over a row sum of `cols` positive terms; relative to each output.
    private static readonly Tolerance SoftmaxTol = new(1e-9, 2e-5);
    // dx = y·(dy − Σ dy·y): a row reduction, then a cancellation bounded by |dy| ≤ 1, scaled by y.
    private static readonly Tolerance SoftmaxGradTol = new(1e-8, 2e-5);

    private static void Softmax(ParityHarness h)
    {
        (int Rows, int Cols)[] shapes = h.Options.Quick ? [(3, 31), (2, 1000)] : [(1, 1), (3, 31), (7, 33), (5, 1000), (2, 4097)];
        foreach (var (rows, cols) in shapes)
        {
            int len = rows * cols;
            string sizes = $"rows={rows} cols={cols}";
            Operand[] fwd = [Out("y", Garbage(h, len), SoftmaxTol), In("x", h.Uniform(len, -4, 4))];
            void Forward(Kernels.IBackend b, OperandBuffers o) => b.SoftmaxForward(o["y"], o["x"], rows, cols);
            h.Check("softmax.forward", sizes, fwd, Forward);
            var y = h.OnReference(fwd, Forward, "y")[0];
            h.Check("softmax.backward", sizes, [Out("dx", Garbage(h, len), SoftmaxGradTol), In("dy", h.Uniform(len)), In("y", y)],
                (b, o) => b.SoftmaxBackward(o["dx"], o["dy"], o["y"], rows, cols));
        }
    }
}
