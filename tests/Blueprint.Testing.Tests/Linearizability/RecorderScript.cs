using Blueprint.Testing.Linearizability;

namespace Blueprint.Testing.Tests.Linearizability;

/// <summary>Shorthand for writing histories by hand: each call records the next event.</summary>
internal static class RecorderScript
{
    public static PendingOperation Read(this HistoryRecorder recorder, int process, string key) =>
        recorder.Invoke(process, OperationFunction.Read, key);

    public static PendingOperation Write(this HistoryRecorder recorder, int process, string key, string? value) =>
        recorder.Invoke(process, OperationFunction.Write, key, value);

    public static PendingOperation Cas(this HistoryRecorder recorder, int process, string key, string? expected, string? value) =>
        recorder.Invoke(process, OperationFunction.Cas, key, value, expected);

    /// <summary>A write that completes before anything else happens.</summary>
    public static void WriteOk(this HistoryRecorder recorder, int process, string key, string? value) =>
        recorder.Write(process, key, value).Ok();

    /// <summary>A read that completes before anything else happens.</summary>
    public static void ReadOk(this HistoryRecorder recorder, int process, string key, string? value) =>
        recorder.Read(process, key).Ok(value);

    public static LinearizabilityResult Check(this HistoryRecorder recorder, long stepsMax = LinearizabilityChecker.DefaultStepsMax) =>
        LinearizabilityChecker.CheckRegisters(recorder.ToHistory(), stepsMax);
}
