using System.Buffers;
using System.Globalization;
using System.Text;
using Blueprint.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace Blueprint.Notify.Email;

/// <summary>
/// The SMTP sink's mailbox: every message it accepted, newest last, at most <see cref="NotifyOptions.MailboxLimit"/>
/// of them (the oldest go first). Each message is one <c>.eml</c> file under <c>&lt;data-dir&gt;/notify/mailbox</c>,
/// written to a temporary name and renamed, so a crash leaves either the whole message or none of it. The sink
/// prepends trace headers as a mail server does on delivery (<c>Return-Path</c>, one <c>Delivered-To</c> per envelope
/// recipient, <c>Received</c> with the id and time), which is how the envelope survives a restart.
/// </summary>
internal sealed partial class Mailbox
{
    /// <summary>The extension of a stored message.</summary>
    public const string Extension = ".eml";

    /// <summary>The extension of a message being written (left by a crash mid-write, deleted at load).</summary>
    public const string PartialExtension = ".eml.partial";

    private const string DeliveredTo = "Delivered-To";

    private const string ReceivedBy = "blueprint (notify SMTP sink)";

    private readonly string _directory;
    private readonly int _limit;
    private readonly TimeProvider _time;
    private readonly ILogger<Mailbox> _logger;
    private readonly Lock _gate = new();
    private readonly List<MailboxEntry> _entries;
    private long _lastStamp;

    /// <summary>Opens the mailbox, loading the messages a previous run stored.</summary>
    public Mailbox(IOptions<NotifyOptions> options, DataDirectory dataDirectory, TimeProvider time, ILogger<Mailbox> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataDirectory);
        _directory = Path.Combine(dataDirectory.For(NotifyModule.ModuleName), "mailbox");
        Directory.CreateDirectory(_directory);
        _limit = options.Value.MailboxLimit;
        _time = time;
        _logger = logger;
        _entries = Load();
        foreach (var evicted in TrimLocked())
        {
            DeleteFile(evicted);
        }
    }

    /// <summary>The folder of the <c>.eml</c> files.</summary>
    public string Folder => _directory;

    /// <summary>How many messages it holds.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The messages, newest first; only those delivered to <paramref name="to"/> (any case) when it is given.</summary>
    public IReadOnlyList<MailboxEntry> List(string? to = null)
    {
        lock (_gate)
        {
            return [.. Enumerable.Reverse(_entries)
                .Where(entry => string.IsNullOrEmpty(to) || entry.To.Any(recipient => string.Equals(recipient, to, StringComparison.OrdinalIgnoreCase)))];
        }
    }

    /// <summary>The message with this id, or null.</summary>
    public MailboxEntry? Find(string id)
    {
        lock (_gate)
        {
            return _entries.Find(entry => entry.Id == id);
        }
    }

    /// <summary>
    /// Stores a message the sink accepted and drops the oldest beyond the limit. Returns once the file is in place.
    /// </summary>
    /// <param name="from">The envelope sender (empty for the null sender <c>&lt;&gt;</c>).</param>
    /// <param name="to">The envelope recipients.</param>
    /// <param name="message">The message as received (headers and body).</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="IOException">The file could not be written.</exception>
    public async Task<MailboxEntry> AddAsync(string from, IReadOnlyList<string> to, ReadOnlySequence<byte> message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(to);
        long stamp;
        lock (_gate)
        {
            stamp = _lastStamp = Math.Max(_time.GetUtcNow().UtcTicks, _lastStamp + 1);
        }

        var id = IdOf(stamp);
        var path = PathOf(id);
        var partial = Path.Combine(_directory, id + PartialExtension);
        try
        {
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                await file.WriteAsync(Encoding.UTF8.GetBytes(TraceHeaders(id, from, to, ReceivedAt(stamp))), cancellationToken).ConfigureAwait(false);
                foreach (var segment in message)
                {
                    await file.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }

                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }

        // Read back as a restart reads it, so the entry is the same before and after one.
        var entry = LoadEntry(path);
        List<MailboxEntry> evicted;
        lock (_gate)
        {
            _entries.Add(entry);
            evicted = TrimLocked();
        }

        foreach (var old in evicted)
        {
            DeleteFile(old);
        }

        LogStored(_logger, id, from, to.Count, entry.Size);
        return entry;
    }

    /// <summary>Opens a message's stored bytes (trace headers and the message as received), or null when it is gone.</summary>
    public Stream? OpenRaw(string id)
    {
        if (Find(id) is not { } entry)
        {
            return null;
        }

        try
        {
            return new FileStream(entry.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null; // deleted between the lookup and the open
        }
    }

    /// <summary>A message parsed with MimeKit, or null when it is gone.</summary>
    public async Task<MimeMessage?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        var stream = OpenRaw(id);
        if (stream is null)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            return await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes one message; false when there is none with this id.</summary>
    public bool Delete(string id)
    {
        MailboxEntry? entry;
        lock (_gate)
        {
            var index = _entries.FindIndex(candidate => candidate.Id == id);
            if (index < 0)
            {
                return false;
            }

            entry = _entries[index];
            _entries.RemoveAt(index);
        }

        DeleteFile(entry);
        return true;
    }

    /// <summary>Deletes every message; returns how many there were.</summary>
    public int Clear()
    {
        List<MailboxEntry> all;
        lock (_gate)
        {
            all = [.. _entries];
            _entries.Clear();
        }

        foreach (var entry in all)
        {
            DeleteFile(entry);
        }

        return all.Count;
    }

    /// <summary>The stored file of a message id.</summary>
    private string PathOf(string id) => Path.Combine(_directory, id + Extension);

    /// <summary>The trace headers the sink prepends: what a mail server adds on final delivery.</summary>
    internal static string TraceHeaders(string id, string from, IReadOnlyList<string> to, DateTimeOffset received)
    {
        var headers = new StringBuilder();
        headers.Append("Return-Path: <").Append(from).Append(">\r\n");
        foreach (var recipient in to)
        {
            headers.Append(DeliveredTo).Append(": ").Append(recipient).Append("\r\n");
        }

        headers.Append("Received: by ").Append(ReceivedBy).Append(" with SMTP id ").Append(id).Append("; ")
            .Append(DateUtils.FormatDate(received)).Append("\r\n");
        return headers.ToString();
    }

    private static string SubjectOf(HeaderList headers) => headers[HeaderId.Subject]?.Trim() ?? "";

    /// <summary>Reads every stored message's headers back into the index, oldest first; deletes partial writes.</summary>
    private List<MailboxEntry> Load()
    {
        foreach (var partial in Directory.EnumerateFiles(_directory, "*" + PartialExtension))
        {
            File.Delete(partial);
        }

        var entries = new List<MailboxEntry>();
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + Extension))
        {
            try
            {
                entries.Add(LoadEntry(path));
            }
            catch (Exception e) when (e is IOException or FormatException)
            {
                LogUnreadable(_logger, path, e.Message);
            }
        }

        entries.Sort((left, right) => string.CompareOrdinal(left.Id, right.Id));
        _lastStamp = entries.Count > 0 ? StampOf(entries[^1].Id)!.Value : 0;
        return entries;
    }

    /// <summary>A stored message's index entry, from its name (the id) and the trace headers it starts with.</summary>
    /// <exception cref="FormatException">The file is not one the sink wrote.</exception>
    private static MailboxEntry LoadEntry(string path)
    {
        var id = Path.GetFileNameWithoutExtension(path);
        var stamp = StampOf(id) ?? throw new FormatException("the name is not a mailbox id");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var headers = new MimeParser(stream, MimeFormat.Entity).ParseHeaders();
        if (headers.Count == 0 || headers[0].Id != HeaderId.ReturnPath)
        {
            throw new FormatException("it does not start with the sink's Return-Path header");
        }

        var from = headers[0].Value.Trim().TrimStart('<').TrimEnd('>');
        var to = headers.Skip(1).TakeWhile(header => header.Field.Equals(DeliveredTo, StringComparison.OrdinalIgnoreCase)).Select(header => header.Value.Trim()).ToList();
        return new MailboxEntry(id, from, to, SubjectOf(headers), ReceivedAt(stamp), stream.Length, path);
    }

    /// <summary>The id of a stamp: 16 hex digits, so ids sort as the messages arrived.</summary>
    private static string IdOf(long stamp) => stamp.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>The stamp of an id, or null when it is not one.</summary>
    private static long? StampOf(string id) =>
        id.Length == 16 && long.TryParse(id, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var stamp) && stamp > 0 ? stamp : null;

    /// <summary>When a message arrived: its stamp is the UTC ticks of its arrival (moved on by a tick or so when two share one).</summary>
    private static DateTimeOffset ReceivedAt(long stamp) => new(stamp, TimeSpan.Zero);

    /// <summary>Drops the oldest entries beyond the limit and returns them (their files are deleted outside the lock).</summary>
    private List<MailboxEntry> TrimLocked()
    {
        var excess = _entries.Count - _limit;
        if (excess <= 0)
        {
            return [];
        }

        var evicted = _entries.GetRange(0, excess);
        _entries.RemoveRange(0, excess);
        return evicted;
    }

    private void DeleteFile(MailboxEntry entry)
    {
        try
        {
            File.Delete(entry.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogDeleteFailed(_logger, entry.Path, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "SMTP sink stored message {Id} from <{From}> to {Recipients} recipient(s), {Size} bytes")]
    private static partial void LogStored(ILogger logger, string id, string from, int recipients, long size);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mailbox file {Path} skipped: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mailbox file {Path} could not be deleted: {Reason}")]
    private static partial void LogDeleteFailed(ILogger logger, string path, string reason);
}

/// <summary>A message in the mailbox, as its list shows it.</summary>
/// <param name="Id">Its id: 16 hex digits, in the order messages arrived.</param>
/// <param name="From">The envelope sender (empty for the null sender).</param>
/// <param name="To">The envelope recipients.</param>
/// <param name="Subject">The decoded Subject header, or empty.</param>
/// <param name="Received">When the sink accepted it.</param>
/// <param name="Size">Its stored size in bytes, trace headers included.</param>
/// <param name="Path">Its <c>.eml</c> file.</param>
internal sealed record MailboxEntry(string Id, string From, IReadOnlyList<string> To, string Subject, DateTimeOffset Received, long Size, string Path);
