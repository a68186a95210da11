namespace BlurVae.Kernels.Cpu;

// Batched 2-D real FFTs over the last two axes (the algorithm is in Fft.cs).
public sealed partial class CpuBackend
{
    public void Rfft2(BackendBuffer y, BackendBuffer x, int batch, int h, int w)
    {
        ShapeRules.Length(x, (long)batch * h * w, nameof(x));
        ShapeRules.Length(y, (long)batch * h * (w / 2 + 1) * 2, nameof(y));
        if (IsF32(x)) Cpu.Fft.Rfft2<float>(Arr<float>(y), Arr<float>(x), batch, h, w);
        else Cpu.Fft.Rfft2<double>(Arr<double>(y), Arr<double>(x), batch, h, w);
    }

    // The CPU transform never writes its input, so a caller's permission to overwrite it changes nothing here.
    public void Irfft2(BackendBuffer x, BackendBuffer c, int batch, int h, int w, bool overwriteInput = false)
    {
        ShapeRules.Length(x, (long)batch * h * w, nameof(x));
        ShapeRules.Length(c, (long)batch * h * (w / 2 + 1) * 2, nameof(c));
        if (IsF32(x)) Cpu.Fft.Irfft2<float>(Arr<float>(x), Arr<float>(c), batch, h, w);
        else Cpu.Fft.Irfft2<double>(Arr<double>(x), Arr<double>(c), batch, h, w);
    }
}
