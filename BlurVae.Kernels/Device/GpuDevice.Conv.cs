using BlurVae.Native;
namespace BlurVae.Kernels.Device;

// Launchers of kernels/conv.cuh. The three GEMM-shaped kernels compute 32×32 tiles of their output matrix with a
// block of blockX × blockY threads (each 8, 16 or 32); the bias gradient runs one block per output channel.
public abstract partial class GpuDevice
{
    private const int ConvTile = 32; // CONV_TILE in kernels/conv.cuh

    /// <summary>y = conv(x, w) + bias (CpuBackend.Conv2dForward); <paramref name="bias"/> null for none.</summary>
    public void Conv2dForward(DeviceMemory y, DeviceMemory x, DeviceMemory w, DeviceMemory? bias, ConvGeometry g,
                              int blockX = 16, int blockY = 16)
    {
        CheckConvGeometry(g);
        CheckConvBlock(blockX, blockY);
        CheckBuffer(y, g.OutputLength, nameof(y));
        CheckBuffer(x, g.InputLength, nameof(x));
        CheckBuffer(w, g.WeightLength, nameof(w));
        if (bias is not null) CheckBuffer(bias, g.OutChannels, nameof(bias));
        if (g.OutputLength == 0) return;
        Launch("conv2d_forward_kernel", ConvGrid(g.N * g.OutH * g.OutW, g.OutChannels), new Dim3((uint)blockX, (uint)blockY),
            [y, x, w, LaunchArg.PointerOrNull(bias), .. GeometryArgs(g)]);
    }

    /// <summary>dx = the gradient of the convolution with respect to its input (CpuBackend.Conv2dBackwardInput); overwrites dx.</summary>
    public void Conv2dBackwardInput(DeviceMemory dx, DeviceMemory dy, DeviceMemory w, ConvGeometry g, int blockX = 16, int blockY = 16)
    {
        CheckConvGeometry(g);
        CheckConvBlock(blockX, blockY);
        CheckBuffer(dx, g.InputLength, nameof(dx));
        CheckBuffer(dy, g.OutputLength, nameof(dy));
        CheckBuffer(w, g.WeightLength, nameof(w));
        if (g.InputLength == 0) return;
        Launch("conv2d_backward_input_kernel", ConvGrid(g.N * g.InH * g.InW, g.InChannels), new Dim3((uint)blockX, (uint)blockY),
            [dx, dy, w, .. GeometryArgs(g)]);
    }

    /// <summary>dw = the gradient of the convolution with respect to its weight (CpuBackend.Conv2dBackwardWeight without the bias); overwrites dw.</summary>
    public void Conv2dBackwardWeight(DeviceMemory dw, DeviceMemory dy, DeviceMemory x, ConvGeometry g, int blockX = 16, int blockY = 16)
    {
        CheckConvGeometry(g);
        CheckConvBlock(blockX, blockY);
        CheckBuffer(dw, g.WeightLength, nameof(dw));
        CheckBuffer(dy, g.OutputLength, nameof(dy));
        CheckBuffer(x, g.InputLength, nameof(x));
        if (g.WeightLength == 0) return;
        Launch("conv2d_backward_weight_kernel", ConvGrid(g.InChannels * g.KernelH * g.KernelW, g.OutChannels),
            new Dim3((uint)blockX, (uint)blockY), [dw, dy, x, .. GeometryArgs(g)]);
    }

    /// <summary>db[co] = Σ dy[n, co, ·, ·] (the bias part of CpuBackend.Conv2dBackwardWeight); one block of <paramref name="blockSize"/> (a multiple of 32) per channel.</summary>
    public void Conv2dBackwardBias(DeviceMemory db, DeviceMemory dy, ConvGeometry g, int blockSize = 256)
    {
        CheckConvGeometry(g);
        CheckBlockSize(blockSize, multipleOf32: true);
        CheckBuffer(db, g.OutChannels, nameof(db));
        CheckBuffer(dy, g.OutputLength, nameof(dy));
        if (g.OutChannels == 0) return;
        Launch("conv2d_backward_bias_kernel", new Dim3((uint)g.OutChannels), new Dim3((uint)blockSize), db, dy, g.N, g.OutChannels, g.OutH * g.OutW);
    }

    private static void CheckConvGeometry(ConvGeometry g)
    {
        if (g.N < 0 || g.InChannels < 0 || g.OutChannels < 0)
            throw new ArgumentOutOfRangeException(nameof(g), g, "batch and channel counts must be >= 0");
        if (g.InH < 1 || g.InW < 1 || g.KernelH < 1 || g.KernelW < 1 || g.OutH < 1 || g.OutW < 1)
            throw new ArgumentOutOfRangeException(nameof(g), g, "spatial and kernel sizes must be >= 1");
        if (g.Stride < 1 || g.Padding < 0)
            throw new ArgumentOutOfRangeException(nameof(g), g, "stride must be >= 1 and padding >= 0");
        // The output size must be the one the input maps to (ConvGeometry.ForConv), or the kernels would read past x.
        if ((g.OutH - 1) * g.Stride + g.KernelH > g.InH + 2 * g.Padding || (g.OutW - 1) * g.Stride + g.KernelW > g.InW + 2 * g.Padding)
            throw new ArgumentException($"Output {g.OutH}x{g.OutW} does not fit a {g.InH}x{g.InW} input with a {g.KernelH}x{g.KernelW} kernel (stride {g.Stride}, padding {g.Padding}).", nameof(g));
    }

    private static void CheckConvBlock(int blockX, int blockY)
    {
        if (blockX is not (8 or 16 or 32)) throw new ArgumentOutOfRangeException(nameof(blockX), blockX, "block side must be 8, 16 or 32");
        if (blockY is not (8 or 16 or 32)) throw new ArgumentOutOfRangeException(nameof(blockY), blockY, "block side must be 8, 16 or 32");
    }

    /// <summary>One block per 32×32 tile of a [rows, cols] output matrix: x over the columns, y over the rows.</summary>
    private static Dim3 ConvGrid(int cols, int rows) => new((uint)((cols + ConvTile - 1) / ConvTile), (uint)((rows + ConvTile - 1) / ConvTile));

    /// <summary>n, cin, h, w, cout, kh, kw, stride, pad, oh, ow: the trailing parameters of the GEMM-shaped kernels.</summary>
    private static LaunchArg[] GeometryArgs(ConvGeometry g) =>
        [g.N, g.InChannels, g.InH, g.InW, g.OutChannels, g.KernelH, g.KernelW, g.Stride, g.Padding, g.OutH, g.OutW];
}
