using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Blueprint.Testing;

/// <summary>
/// A child process with its output captured line by line, awaitable on a condition with a
/// deadline (no sleeps), stoppable by signal. Used for node processes (kill -9, SIGTERM) and for
/// Debian peers. Only ever signals the process it started, by its PID.
/// </summary>
public sealed partial class ProcessRunner : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private readonly List<(Func<string, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    private ProcessRunner(Process process) => _process = process;

    /// <summary>The PID.</summary>
    public int Id => _process.Id;

    /// <summary>Everything written to standard output so far.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>Everything written to standard error so far.</summary>
    public string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>.</summary>
    public static ProcessRunner Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var runner = new ProcessRunner(process);
        process.OutputDataReceived += (_, e) => runner.OnLine(runner._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => runner.OnLine(runner._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return runner;
    }

    /// <summary>Waits until a line of output (stdout or stderr) satisfies <paramref name="condition"/>.</summary>
    /// <exception cref="TimeoutException">The deadline passed first; the message carries the output so far.</exception>
    public async Task WaitForLineAsync(Func<string, bool> condition, TimeSpan deadline)
    {
        TaskCompletionSource done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var seen = (_stdout.ToString() + _stderr).Split('\n');
            if (seen.Any(condition))
            {
                return;
            }

            _waiters.Add((condition, done));
        }

        var exited = _process.WaitForExitAsync();
        var finished = await Task.WhenAny(done.Task, exited, Task.Delay(deadline));
        if (finished != done.Task)
        {
            throw new TimeoutException(
                $"{(finished == exited ? "process exited" : "deadline passed")} before the expected line; stdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }
    }

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    /// <exception cref="TimeoutException">It is still running at the deadline.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"process {Id} still running after {deadline}; stdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }

        return _process.ExitCode;
    }

    /// <summary>Writes <paramref name="text"/> to the process's standard input and closes it (end of input).</summary>
    public async Task WriteStandardInputAsync(string text)
    {
        await _process.StandardInput.WriteAsync(text);
        _process.StandardInput.Close();
    }

    /// <summary>Sends SIGTERM (a graceful stop request).</summary>
    public void Terminate() => Signal(15);

    /// <summary>Sends SIGINT (Ctrl-C).</summary>
    public void Interrupt() => Signal(2);

    /// <summary>Kills the process at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    private void Signal(int signal)
    {
        if (!_process.HasExited && NativeMethods.Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private void OnLine(StringBuilder sink, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            sink.Append(line).Append('\n');
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition(line))
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Kills the process if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        internal static partial int Kill(int pid, int signal);
    }
}
