using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Blueprint.Coordination.Mvcc;
using CsCheck;
using static Blueprint.Coordination.Tests.Mvcc.Requests;

namespace Blueprint.Coordination.Tests.Mvcc;

/// <summary>
/// The store against a reference model that is nothing but the list of every (revision, key,
/// value-or-delete) event: any state at any revision is recomputed from that list by brute force.
/// </summary>
public sealed class MvccStorePropertyTests
{
    private static readonly string[] Keys = ["a", "b", "ba", "c", "d"];

    /// <summary>(kind, first key, second key, value, extra) — decoded by <see cref="ToRequest"/>.</summary>
    private static readonly Gen<(int Kind, int Key, int Other, int Value, int Extra)[]> Scripts =
        Gen.Select(Gen.Int[0, 9], Gen.Int[0, 4], Gen.Int[0, 4], Gen.Int[0, 9], Gen.Int[0, 99]).Array[1, 60];

    [Fact]
    public void Store_RandomScript_MatchesModelAtEveryRetainedRevision()
    {
        Scripts.Sample(
            script =>
            {
                using var store = new MvccStore();
                var model = new Model();
                foreach (var step in script)
                {
                    var request = ToRequest(step, model);
                    var response = store.Apply(request);
                    model.Apply(request, response);
                    Assert.Equal(model.Revision, store.Revision);
                    Assert.Equal(model.CompactRevision, store.CompactRevision);
                }

                AssertMatches(store, model);
                using var restored = new MvccStore();
                restored.Restore(store.Snapshot());
                AssertMatches(restored, model);
                Assert.Equal(store.Snapshot(), restored.Snapshot());
            },
            iter: 300);
    }

    [Fact]
    public void Store_SameScriptTwice_ProducesIdenticalSnapshots()
    {
        Scripts.Sample(
            script =>
            {
                using var first = new MvccStore();
                using var second = new MvccStore();
                var firstModel = new Model();
                var secondModel = new Model();
                foreach (var step in script)
                {
                    var request = ToRequest(step, firstModel);
                    firstModel.Apply(request, first.Apply(request));
                    secondModel.Apply(request, second.Apply(request.Clone()));
                }

                Assert.Equal(first.Snapshot(), second.Snapshot());
            },
            iter: 100);
    }

    [Fact]
    public void Model_BrokenStoreAnswer_IsCaught()
    {
        // The checker must notice a wrong answer: corrupt the model's history and expect a mismatch.
        using var store = new MvccStore();
        var model = new Model();
        foreach (var request in new[] { Put("a", "1"), Put("b", "2"), Put("a", "3") })
        {
            model.Apply(request, store.Apply(request));
        }

        model.Events[1] = model.Events[1] with { Value = "corrupted" };
        Assert.ThrowsAny<Exception>(() => AssertMatches(store, model));
    }

    private static InternalRequest ToRequest((int Kind, int Key, int Other, int Value, int Extra) step, Model model)
    {
        var key = Keys[step.Key];
        var other = Keys[step.Other];
        var value = step.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        switch (step.Kind)
        {
            case <= 3:
                return Put(key, value);
            case 4:
                return Delete(key);
            case 5:
                return string.CompareOrdinal(key, other) < 0 ? Delete(key, other) : Delete(key, "\0");
            case 6 or 7:
                var success = new List<RequestOp> { PutOp(other, value) };
                if (key != other)
                {
                    success.Add(DeleteOp(key));
                }

                return Txn(new TxnRequest
                {
                    Compare = { new Compare { Key = B(key), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = step.Value % 3 } },
                    Success = { success },
                    Failure = { PutOp(key, value), RangeOp("a", "\0") },
                });
            case 8:
                var span = Math.Max(1, model.Revision - model.CompactRevision + 1);
                return Compact(model.CompactRevision + (step.Extra % span));
            default:
                return Txn(new TxnRequest { Success = { PutOp(key, value), PutOp(key, value) } });
        }
    }

    private static void AssertMatches(MvccStore store, Model model)
    {
        for (var revision = 1L; revision <= model.Revision; revision++)
        {
            var request = Get("\0", "\0", revision);
            if (revision < model.CompactRevision)
            {
                Assert.Throws<MvccException>(() => store.Range(request));
                continue;
            }

            var expected = model.StateAt(revision).Select(kv => kv.ToString()).ToArray();
            var actual = store.Range(request).Kvs.Select(kv => kv.ToString()).ToArray();
            Assert.True(expected.SequenceEqual(actual), $"revision {revision}: expected [{string.Join(", ", expected)}] got [{string.Join(", ", actual)}]");
        }

        var from = model.CompactRevision + 1;
        var history = store.ReadHistory(from, new KeyRange(B("\0"), B("\0")), prevKv: false, int.MaxValue, int.MaxValue);
        var expectedEvents = model.Events.Where(e => e.Revision >= from).Select(e => $"{e.Revision}:{e.Key}={e.Value ?? "<deleted>"}");
        var actualEvents = history.Revisions.SelectMany(r => r.Events.Select(e =>
            $"{r.Revision}:{S(e.Kv.Key)}={(e.Type == Event.Types.EventType.Delete ? "<deleted>" : S(e.Kv.Value))}"));
        Assert.Equal(expectedEvents, actualEvents);
    }

    private sealed record ModelEvent(long Revision, string Key, string? Value);

    /// <summary>All events ever, never compacted; the store's answers are recomputed from them.</summary>
    private sealed class Model
    {
        public List<ModelEvent> Events { get; } = [];

        public long Revision { get; private set; } = 1;

        public long CompactRevision { get; private set; }

        public List<KeyValue> StateAt(long revision)
        {
            var state = new SortedDictionary<string, KeyValue>(StringComparer.Ordinal);
            foreach (var change in Events.Where(e => e.Revision <= revision))
            {
                if (change.Value is null)
                {
                    state.Remove(change.Key);
                    continue;
                }

                state.TryGetValue(change.Key, out var previous);
                state[change.Key] = new KeyValue
                {
                    Key = B(change.Key),
                    Value = B(change.Value),
                    CreateRevision = previous?.CreateRevision ?? change.Revision,
                    ModRevision = change.Revision,
                    Version = (previous?.Version ?? 0) + 1,
                };
            }

            return [.. state.Values];
        }

        public void Apply(InternalRequest request, InternalResponse response)
        {
            var next = Revision + 1;
            var changes = new List<ModelEvent>();
            switch (request.RequestCase)
            {
                case InternalRequest.RequestOneofCase.Put:
                    Assert.Equal(0, response.ErrorCode);
                    changes.Add(new ModelEvent(next, S(request.Put.Key), S(request.Put.Value)));
                    break;
                case InternalRequest.RequestOneofCase.DeleteRange:
                    var deleted = DeleteRange(request.DeleteRange, next, changes);
                    Assert.Equal(deleted, response.DeleteRange.Deleted);
                    break;
                case InternalRequest.RequestOneofCase.Txn:
                    var txn = request.Txn;
                    var puts = txn.Success.Where(op => op.RequestPut is not null).Select(op => S(op.RequestPut.Key)).ToList();
                    if (puts.Count != puts.Distinct().Count())
                    {
                        Assert.Equal("etcdserver: duplicate key given in txn request", response.ErrorMessage);
                        return;
                    }

                    var compare = txn.Compare[0];
                    var current = StateAt(Revision).FirstOrDefault(kv => kv.Key == compare.Key);
                    var succeeded = (current?.Version ?? 0) == compare.Version;
                    Assert.Equal(succeeded, response.Txn.Succeeded);
                    foreach (var op in succeeded ? txn.Success : txn.Failure)
                    {
                        if (op.RequestPut is { } put)
                        {
                            changes.Add(new ModelEvent(next, S(put.Key), S(put.Value)));
                        }
                        else if (op.RequestDeleteRange is { } delete)
                        {
                            DeleteRange(delete, next, changes);
                        }
                    }

                    break;
                case InternalRequest.RequestOneofCase.Compaction:
                    var target = request.Compaction.Revision;
                    if (target <= CompactRevision || target > Revision)
                    {
                        Assert.NotEqual(0, response.ErrorCode);
                        return;
                    }

                    Assert.Equal(0, response.ErrorCode);
                    CompactRevision = target;
                    return;
                default:
                    throw new InvalidOperationException("the script makes no other requests");
            }

            if (changes.Count > 0)
            {
                Events.AddRange(changes);
                Revision = next;
            }
        }

        private int DeleteRange(DeleteRangeRequest request, long revision, List<ModelEvent> changes)
        {
            var range = new KeyRange(request.Key, request.RangeEnd);
            var doomed = StateAt(Revision).Where(kv => range.Contains(kv.Key)).Select(kv => S(kv.Key)).ToList();
            changes.AddRange(doomed.Select(key => new ModelEvent(revision, key, null)));
            return doomed.Count;
        }
    }
}
