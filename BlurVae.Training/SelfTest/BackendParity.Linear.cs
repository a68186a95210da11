namespace BlurVae.Training.SelfTest;

public static partial class BackendParity
{
    /// <summary>The activations a Linear layer fuses (IBackend.BiasActivation*), with the names of their checks.</summary>
    private static readonly (string Name, Kernels.UnaryOp? Op, double Alpha)[] LinearActivations =
        [("identity", null, 0), ("relu", Kernels.UnaryOp.Relu, 0), ("leaky_relu", Kernels.UnaryOp.LeakyRelu, 0.2), ("relu6", Kernels.UnaryOp.Relu6, 0)];

    private static void BiasActivation(ParityHarness h)
    {
        // One row, one column, a partial column block with rows cut into chunks on a GPU.
        (int Rows, int Cols)[] shapes = h.Options.Quick ? [(5, 33)] : [(1, 33), (7, 1), (300, 70)];
        foreach (var (name, op, alpha) in LinearActivations)
        {
            foreach (var (rows, cols) in shapes)
            {
                int n = rows * cols;
                string sizes = $"rows={rows} cols={cols} alpha={alpha}";
                // Pre-activations over (-2, 8) cross both clamps of relu6.
                Operand[] fwd = [Out("y", h.Uniform(n, -2, 8), ExactishTol), In("bias", h.Uniform(cols))];
                void Forward(Kernels.IBackend b, OperandBuffers o) => b.BiasActivationForward(o["y"], o["bias"], rows, cols, op, alpha);
                h.Check($"bias_activation.{name}.forward", sizes, fwd, Forward);
                var y = h.OnReference(fwd, Forward, "y")[0];
                h.Check($"bias_activation.{name}.backward", sizes,
                    [Out("dPre", Garbage(h, n), ExactishTol), Out("dBias", Garbage(h, cols), SumTol(rows)), In("dy", h.Uniform(n)), In("y", y)],
                    (b, o) => b.BiasActivationBackward(o["dPre"], o["dBias"], o["dy"], o["y"], rows, cols, op, alpha));
            }
        }
    }
}
