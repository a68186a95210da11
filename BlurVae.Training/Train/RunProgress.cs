using System.Globalization;

namespace BlurVae.Training.Train;

/// <summary>
/// The progress line of a training run: the epoch, the step within it, the running mean loss, and labelled times — the
/// epoch's elapsed time, what is left of it, and what is left of the whole run (remaining steps of every epoch at the
/// pace measured so far in this process, plus the per-epoch evaluation time seen so far).
/// </summary>
public sealed class RunProgress(int epochs, int stepsPerEpoch)
{
    private double _stepSeconds;      // all steps timed in this process
    private int _stepsTimed;
    private double _evalSeconds;      // evaluation and writing at epoch ends
    private int _epochEnds;

    public void StepDone(double seconds)
    {
        _stepSeconds += seconds;
        _stepsTimed++;
    }

    public void EpochEndDone(double seconds)
    {
        _evalSeconds += seconds;
        _epochEnds++;
    }

    /// <summary>Seconds left of the run after <paramref name="step"/> steps of epoch <paramref name="epoch"/> (0-based); null before the first step.</summary>
    public double? RunSecondsLeft(int epoch, int step)
    {
        if (_stepsTimed == 0) return null;
        double perStep = _stepSeconds / _stepsTimed;
        int epochsAfter = epochs - epoch - 1;
        double steps = stepsPerEpoch - step + (double)epochsAfter * stepsPerEpoch;
        double evalPerEpoch = _epochEnds > 0 ? _evalSeconds / _epochEnds : 0;
        return steps * perStep + (epochsAfter + 1) * evalPerEpoch;
    }

    /// <summary>"epoch 3/10 · step 12/40 · loss 41.20 · elapsed 0:05 · epoch left 0:12 · run left 4:31".</summary>
    public string Describe(string epochLabel, int epoch, int step, double meanLoss, double epochSeconds)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{epochLabel} · step {step}/{stepsPerEpoch}");
        if (step > 0) text += string.Create(CultureInfo.InvariantCulture, $" · loss {meanLoss:F2}");
        text += $" · elapsed {Clock(epochSeconds)}";
        if (step > 0 && _stepsTimed > 0)
            text += $" · epoch left {Clock((stepsPerEpoch - step) * _stepSeconds / _stepsTimed)} · run left {Clock(RunSecondsLeft(epoch, step)!.Value)}";
        return text;
    }

    public static string Clock(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(seconds)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
    }
}
