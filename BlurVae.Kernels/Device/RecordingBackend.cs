namespace BlurVae.Kernels.Device;

/// <summary>
/// The CUDA backend's code (<see cref="DeviceBackend"/>) on a <see cref="RecordingDevice"/>: every op takes the real
/// launchers' path, checked and counted, and computes nothing (downloads read zeros). `blurvae profile` runs
/// training steps on it to count their structure without a GPU.
/// </summary>
public sealed class RecordingBackend(RecordingDevice device) : DeviceBackend(device)
{
    public override string Name => "recording";

    public new RecordingDevice Device => (RecordingDevice)base.Device;
}
