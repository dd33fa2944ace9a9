using Blueprint.Coordination.Etcd.Mvccpb;
using Blueprint.Coordination.Etcd.Rpc;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Blueprint.Coordination.Mvcc;

public sealed partial class MvccStore
{
    /// <summary>
    /// Runs a txn as one revision: every compare (nested ones too) reads the state before the txn,
    /// every check runs on the chosen path before the first write, and reads inside the txn see the
    /// txn's earlier writes. A txn that writes nothing keeps the revision.
    /// </summary>
    private TxnResponse ApplyTxn(TxnRequest request, Batch batch)
    {
        CheckTxnShape(request, _limits.TxnOpsMax, depth: 1);
        CheckIntervals(request.Success);
        CheckIntervals(request.Failure);
        var path = new List<bool>();
        ChoosePath(request, path);
        var step = 0;
        CheckTxnState(request, path, ref step);
        step = 0;
        var response = ExecuteTxn(request, path, ref step, batch);
        SetHeaders(response, batch.Events.Count > 0 ? batch.Revision : _state.Revision);
        return response;
    }

    /// <summary>etcd's checkTxnRequest: counts against the remaining op budget, empty keys, put flags.</summary>
    private void CheckTxnShape(TxnRequest request, int opsBudget, int depth)
    {
        if (depth > _limits.TxnDepthMax)
        {
            throw MvccErrors.TxnTooDeep();
        }

        var ops = Math.Max(request.Compare.Count, Math.Max(request.Success.Count, request.Failure.Count));
        if (ops > opsBudget)
        {
            throw MvccErrors.TooManyOps();
        }

        foreach (var compare in request.Compare)
        {
            if (compare.Key.IsEmpty)
            {
                throw MvccErrors.EmptyKey();
            }
        }

        foreach (var op in request.Success.Concat(request.Failure))
        {
            switch (op.RequestCase)
            {
                case RequestOp.RequestOneofCase.RequestRange when op.RequestRange.Key.IsEmpty:
                case RequestOp.RequestOneofCase.RequestDeleteRange when op.RequestDeleteRange.Key.IsEmpty:
                    throw MvccErrors.EmptyKey();
                case RequestOp.RequestOneofCase.RequestPut:
                    CheckPutShape(op.RequestPut);
                    break;
                case RequestOp.RequestOneofCase.RequestTxn:
                    CheckTxnShape(op.RequestTxn, opsBudget - ops, depth + 1);
                    break;
                case RequestOp.RequestOneofCase.None:
                    throw MvccErrors.EmptyRequest();
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// etcd's checkIntervals: within one branch a key may be written once. A put may not repeat a
    /// put or fall inside a delete of the same branch or an enclosing one; a nested txn's two
    /// branches exclude each other, so they may name the same key.
    /// </summary>
    private static (HashSet<ByteString> Puts, List<KeyRange> Deletes) CheckIntervals(RepeatedField<RequestOp> ops)
    {
        var deletes = ops
            .Where(op => op.RequestCase == RequestOp.RequestOneofCase.RequestDeleteRange)
            .Select(op => new KeyRange(op.RequestDeleteRange.Key, op.RequestDeleteRange.RangeEnd))
            .ToList();
        var puts = new HashSet<ByteString>();
        foreach (var op in ops.Where(op => op.RequestCase == RequestOp.RequestOneofCase.RequestTxn))
        {
            var (putsThen, deletesThen) = CheckIntervals(op.RequestTxn.Success);
            var (putsElse, deletesElse) = CheckIntervals(op.RequestTxn.Failure);
            foreach (var key in putsThen)
            {
                if (puts.Contains(key) || deletes.Any(range => range.Contains(key)))
                {
                    throw MvccErrors.DuplicateKey();
                }

                puts.Add(key);
            }

            foreach (var key in putsElse)
            {
                if ((puts.Contains(key) && !putsThen.Contains(key)) || deletes.Any(range => range.Contains(key)))
                {
                    throw MvccErrors.DuplicateKey();
                }

                puts.Add(key);
            }

            deletes.AddRange(deletesThen);
            deletes.AddRange(deletesElse);
        }

        foreach (var op in ops.Where(op => op.RequestCase == RequestOp.RequestOneofCase.RequestPut))
        {
            var key = op.RequestPut.Key;
            if (puts.Contains(key) || deletes.Any(range => range.Contains(key)))
            {
                throw MvccErrors.DuplicateKey();
            }

            puts.Add(key);
        }

        return (puts, deletes);
    }

    /// <summary>Evaluates the compares of this txn and of every nested txn on the chosen branches, in execution order.</summary>
    private void ChoosePath(TxnRequest request, List<bool> path)
    {
        var succeeded = request.Compare.All(Holds);
        path.Add(succeeded);
        foreach (var op in succeeded ? request.Success : request.Failure)
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestTxn)
            {
                ChoosePath(op.RequestTxn, path);
            }
        }
    }

    /// <summary>etcd's applyCompare: every key in the range must satisfy it; a missing key compares as zeroes, except that VALUE fails.</summary>
    private bool Holds(Compare compare)
    {
        var range = new KeyRange(compare.Key, compare.RangeEnd);
        var any = false;
        foreach (var history in KeysIn(range))
        {
            var kv = history.LiveAt(_state.Revision);
            if (kv is null)
            {
                continue;
            }

            any = true;
            if (!Holds(compare, kv))
            {
                return false;
            }
        }

        return any || (compare.Target != Compare.Types.CompareTarget.Value && Holds(compare, new KeyValue()));
    }

    private static bool Holds(Compare compare, KeyValue kv)
    {
        var union = compare.TargetUnionCase;
        var result = compare.Target switch
        {
            Compare.Types.CompareTarget.Value => KeyComparer.Instance.Compare(
                kv.Value, union == Compare.TargetUnionOneofCase.Value ? compare.Value : ByteString.Empty),
            Compare.Types.CompareTarget.Create => kv.CreateRevision.CompareTo(
                union == Compare.TargetUnionOneofCase.CreateRevision ? compare.CreateRevision : 0),
            Compare.Types.CompareTarget.Mod => kv.ModRevision.CompareTo(
                union == Compare.TargetUnionOneofCase.ModRevision ? compare.ModRevision : 0),
            Compare.Types.CompareTarget.Version => kv.Version.CompareTo(
                union == Compare.TargetUnionOneofCase.Version ? compare.Version : 0),
            Compare.Types.CompareTarget.Lease => kv.Lease.CompareTo(
                union == Compare.TargetUnionOneofCase.Lease ? compare.Lease : 0),
            _ => 0,
        };
        return compare.Result switch
        {
            Compare.Types.CompareResult.Equal => result == 0,
            Compare.Types.CompareResult.NotEqual => result != 0,
            Compare.Types.CompareResult.Greater => result > 0,
            Compare.Types.CompareResult.Less => result < 0,
            _ => true,
        };
    }

    /// <summary>etcd's checkRequests: on the chosen path, puts need their key and lease, ranges a retained revision.</summary>
    private void CheckTxnState(TxnRequest request, List<bool> path, ref int step)
    {
        foreach (var op in path[step++] ? request.Success : request.Failure)
        {
            switch (op.RequestCase)
            {
                case RequestOp.RequestOneofCase.RequestRange:
                    CheckRange(op.RequestRange);
                    break;
                case RequestOp.RequestOneofCase.RequestPut:
                    CheckPutState(op.RequestPut);
                    break;
                case RequestOp.RequestOneofCase.RequestTxn:
                    CheckTxnState(op.RequestTxn, path, ref step);
                    break;
                default:
                    break;
            }
        }
    }

    private TxnResponse ExecuteTxn(TxnRequest request, List<bool> path, ref int step, Batch batch)
    {
        var succeeded = path[step++];
        var response = new TxnResponse { Succeeded = succeeded };
        foreach (var op in succeeded ? request.Success : request.Failure)
        {
            var latest = batch.Events.Count > 0 ? batch.Revision : _state.Revision;
            response.Responses.Add(op.RequestCase switch
            {
                RequestOp.RequestOneofCase.RequestRange => new ResponseOp { ResponseRange = RangeAt(op.RequestRange, latest) },
                RequestOp.RequestOneofCase.RequestPut => new ResponseOp { ResponsePut = ExecutePut(op.RequestPut, batch) },
                RequestOp.RequestOneofCase.RequestDeleteRange => new ResponseOp { ResponseDeleteRange = ExecuteDeleteRange(op.RequestDeleteRange, batch) },
                RequestOp.RequestOneofCase.RequestTxn => new ResponseOp { ResponseTxn = ExecuteTxn(op.RequestTxn, path, ref step, batch) },
                _ => throw new InvalidOperationException("mvcc invariant broken: an empty txn operation passed the checks"),
            });
        }

        return response;
    }

    /// <summary>Every response inside a txn carries the txn's resulting revision.</summary>
    private static void SetHeaders(TxnResponse response, long revision)
    {
        response.Header = new ResponseHeader { Revision = revision };
        foreach (var op in response.Responses)
        {
            switch (op.ResponseCase)
            {
                case ResponseOp.ResponseOneofCase.ResponseRange:
                    op.ResponseRange.Header = new ResponseHeader { Revision = revision };
                    break;
                case ResponseOp.ResponseOneofCase.ResponsePut:
                    op.ResponsePut.Header = new ResponseHeader { Revision = revision };
                    break;
                case ResponseOp.ResponseOneofCase.ResponseDeleteRange:
                    op.ResponseDeleteRange.Header = new ResponseHeader { Revision = revision };
                    break;
                case ResponseOp.ResponseOneofCase.ResponseTxn:
                    SetHeaders(op.ResponseTxn, revision);
                    break;
                default:
                    break;
            }
        }
    }
}
