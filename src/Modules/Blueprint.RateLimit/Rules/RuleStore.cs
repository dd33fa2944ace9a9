using Blueprint.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Blueprint.RateLimit.Rules;

/// <summary>
/// Holds the current rules as an immutable snapshot. A bad first load stops the node from
/// starting, naming every problem; a bad reload keeps the last good rules, logs the problems and
/// keeps them in <see cref="LastError"/> until a good load clears them (the YARP habit).
/// </summary>
public sealed partial class RuleStore : IHostedService, IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly string? _path;
    private readonly ILogger<RuleStore> _logger;
    private readonly Lock _gate = new();
    private FileSystemWatcher? _watcher;
    private ITimer? _debounce;

    /// <summary>How long the file must be quiet before it is read: one save fires several events, some mid-write.</summary>
    public static readonly TimeSpan ReloadDebounce = TimeSpan.FromMilliseconds(150);
    private RuleSet _current = RuleSet.Empty;

    /// <summary>Creates the store.</summary>
    public RuleStore(IOptions<RateLimitOptions> options, DataDirectory dataDirectory, ILogger<RuleStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataDirectory);
        _options = options.Value;
        _logger = logger;
        if (!string.IsNullOrWhiteSpace(_options.RulesFile))
        {
            _path = Path.IsPathRooted(_options.RulesFile) ? _options.RulesFile : Path.Combine(dataDirectory.FullPath, _options.RulesFile);
        }
    }

    /// <summary>The rules in force.</summary>
    public RuleSet Current => Volatile.Read(ref _current);

    /// <summary>How many times rules were loaded successfully.</summary>
    public int Version { get; private set; }

    /// <summary>The problems of the last failed reload, or null when the last load succeeded.</summary>
    public string? LastError { get; private set; }

    /// <summary>Raised after every reload attempt, good or bad (tests wait on it instead of sleeping).</summary>
    public event EventHandler? Reloaded;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            Install(RuleParser.Parse(ReadSource()));
        }
        catch (RuleValidationException e)
        {
            throw new StartupProblemException($"rate-limit rules {(_path ?? "RateLimit:Rules")}: {string.Join("; ", e.Problems)}", e);
        }
        catch (IOException e)
        {
            throw new StartupProblemException($"rate-limit rules file {_path} cannot be read ({e.Message}); fix RateLimit:RulesFile", e);
        }

        if (_path is not null)
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            _debounce = TimeProvider.System.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _watcher.Changed += (_, _) => _debounce.Change(ReloadDebounce, Timeout.InfiniteTimeSpan);
            _watcher.Created += (_, _) => _debounce.Change(ReloadDebounce, Timeout.InfiniteTimeSpan);
            _watcher.Renamed += (_, _) => _debounce.Change(ReloadDebounce, Timeout.InfiniteTimeSpan);
            _watcher.EnableRaisingEvents = true;
        }

        return Task.CompletedTask;
    }

    /// <summary>Reads the rules again; on any problem keeps the current ones. Returns whether the new rules are in force.</summary>
    public bool Reload()
    {
        try
        {
            Install(RuleParser.Parse(ReadSource()));
            LogReloaded(_logger, Version);
            return true;
        }
        catch (Exception e) when (e is RuleValidationException or IOException or UnauthorizedAccessException)
        {
            var problems = e is RuleValidationException validation ? string.Join("; ", validation.Problems) : e.Message;
            lock (_gate)
            {
                LastError = problems;
            }

            LogReloadRejected(_logger, problems);
            return false;
        }
        finally
        {
            Reloaded?.Invoke(this, EventArgs.Empty);
        }
    }

    private string ReadSource()
    {
        if (_path is null)
        {
            return _options.Rules ?? "";
        }

        var info = new FileInfo(_path);
        if (info.Exists && info.Length > RuleParser.DocumentBytesMax)
        {
            throw new RuleValidationException([$"the rules file is larger than {RuleParser.DocumentBytesMax} bytes"]);
        }

        var text = File.ReadAllText(_path);

        // An empty file is a write in progress or a mistake, never "no limits": keep what is in force.
        return string.IsNullOrWhiteSpace(text) ? throw new RuleValidationException(["the rules file is empty"]) : text;
    }

    private void Install(RuleSet rules)
    {
        lock (_gate)
        {
            Volatile.Write(ref _current, rules);
            Version++;
            LastError = null;
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _watcher?.Dispose();
        _watcher = null;
        _debounce?.Dispose();
        _debounce = null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate-limit rules loaded (version {Version})")]
    private static partial void LogReloaded(ILogger logger, int version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rate-limit rules reload rejected, the previous rules stay in force: {Problems}")]
    private static partial void LogReloadRejected(ILogger logger, string problems);
}
