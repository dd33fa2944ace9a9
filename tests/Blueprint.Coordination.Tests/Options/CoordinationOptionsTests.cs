using System.ComponentModel.DataAnnotations;

namespace Blueprint.Coordination.Tests.Options;

public sealed class CoordinationOptionsTests
{
    private static List<string> Problems(CoordinationOptions options) =>
        [.. options.Validate(new ValidationContext(options)).Select(result => result.ErrorMessage ?? "")];

    [Fact]
    public void Members_get_ids_in_name_order_and_this_member_must_be_listed()
    {
        var options = new CoordinationOptions { NodeId = "b", InitialCluster = "c=http://127.0.0.1:3,a=http://127.0.0.1:1,b=http://127.0.0.1:2" };
        Assert.Equal([(1, "a"), (2, "b"), (3, "c")], options.ParseInitialCluster("127.0.0.1").Select(member => (member.Id, member.Name)));
        options.NodeId = "z";
        Assert.Contains(Problems(options), problem => problem.Contains("this member's name z is not in the list", StringComparison.Ordinal));
    }

    [Fact]
    public void Joining_needs_the_member_id_that_member_add_printed()
    {
        var options = new CoordinationOptions { NodeId = "n4", InitialClusterState = "existing", InitialCluster = "n1=http://127.0.0.1:1,n4=http://127.0.0.1:4" };
        Assert.Contains(Problems(options), problem => problem.StartsWith("JoinMemberId", StringComparison.Ordinal));
        options.JoinMemberId = "a";
        Assert.Equal(10, options.MemberId);
        Assert.Empty(Problems(options));
    }

    [Fact]
    public void Malformed_peer_urls_and_equal_ports_are_reported()
    {
        var problems = Problems(new CoordinationOptions { EtcdPort = 5, RaftPort = 5, InitialCluster = "n1=https://h:1", PeerDialUrls = "n2" });
        Assert.Contains(problems, problem => problem.Contains("must differ", StringComparison.Ordinal));
        Assert.Contains(problems, problem => problem.Contains("TLS between peers is not supported", StringComparison.Ordinal));
        Assert.Contains(problems, problem => problem.StartsWith("PeerDialUrls", StringComparison.Ordinal));
    }
}
