using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Blueprint.Lab.Processes;

/// <summary>
/// A program the lab starts: its output kept (the last lines, for error messages), readiness awaited by connecting to
/// a loopback port before a deadline, and stopped by its own PID, never by name.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    /// <summary>How many lines of output are kept for an error message.</summary>
    private const int OutputLinesMax = 40;

    /// <summary>The pause between two connection attempts while waiting for a port.</summary>
    private static readonly TimeSpan ConnectRetryPause = TimeSpan.FromMilliseconds(50);

    private readonly Process _process;
    private readonly Queue<string> _output = new();
    private readonly Lock _gate = new();

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>Gets the name used in messages.</summary>
    public string Name { get; }

    /// <summary>Gets the PID.</summary>
    public int Id => _process.Id;

    /// <summary>Gets whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Gets the last lines of standard output and error.</summary>
    public string OutputTail
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with its output captured.</summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        Process process = new() { StartInfo = StartInfo(fileName, arguments, environment, workingDirectory) };
        ChildProcess child = new(process, name);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        try
        {
            _ = process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new LabPrerequisiteException($"cannot start {name} ({fileName}): {e.Message}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs <paramref name="fileName"/> to its end and returns its standard output.</summary>
    /// <exception cref="LabPrerequisiteException">It failed to start, exited with a non-zero code, or ran past the deadline (then it is killed).</exception>
    public static async Task<string> RunAsync(string name, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory, TimeSpan deadline)
    {
        using Process process = new() { StartInfo = StartInfo(fileName, arguments, environment, workingDirectory) };
        try
        {
            _ = process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LabPrerequisiteException($"cannot start {name} ({fileName}): {e.Message}");
        }

        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using CancellationTokenSource timeout = new(deadline);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new LabPrerequisiteException($"{name} ran past {deadline.TotalSeconds:F0} s and was killed");
        }

        string output = await stdout.ConfigureAwait(false);
        string errors = await stderr.ConfigureAwait(false);
        return process.ExitCode == 0
            ? output
            : throw new LabPrerequisiteException($"{name} exited with code {process.ExitCode}: {(output + errors).Trim().ReplaceLineEndings(" | ")}");
    }

    /// <summary>Waits until 127.0.0.1:<paramref name="port"/> accepts a connection.</summary>
    /// <exception cref="LabPrerequisiteException">The process exited or the deadline passed first; the message has its last output.</exception>
    public async Task WaitForPortAsync(int port, TimeSpan deadline, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        while (!_process.HasExited && Stopwatch.GetElapsedTime(started) < deadline)
        {
            using TcpClient client = new();
            using CancellationTokenSource attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            await Task.Delay(ConnectRetryPause, cancellationToken).ConfigureAwait(false);
        }

        string why = _process.HasExited ? $"exited with code {_process.ExitCode}" : $"did not listen on port {port} within {deadline.TotalSeconds:F0} s";
        throw new LabPrerequisiteException($"{Name} {why}; its last output: {OutputTail.ReplaceLineEndings(" | ")}");
    }

    /// <summary>Waits for the exit; false when it is still running at the deadline.</summary>
    public bool WaitForExit(TimeSpan deadline) => _process.WaitForExit(deadline);

    /// <summary>Kills the process and its children (SIGKILL to each PID) if it still runs, and waits for the exit.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _ = _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already reaped.
        }
    }

    /// <summary>Kills the process if it still runs.</summary>
    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    /// <summary>Output captured, standard input open (and never written: a child that reads it waits, not ends).</summary>
    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        ProcessStartInfo info = new(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach ((string key, string value) in environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.Enqueue(line);
            if (_output.Count > OutputLinesMax)
            {
                _ = _output.Dequeue();
            }
        }
    }
}
