using Blueprint.Core.Resilience;

namespace Blueprint.Core.Tests.Resilience;

public sealed class RetryBudgetTests
{
    [Fact]
    public void Retries_are_capped_at_the_percentage_of_requests_once_the_reserve_is_spent()
    {
        var budget = new RetryBudget(percent: 20, minPerSecond: 0);
        var allowed = 0;
        for (var i = 0; i < 1000; i++)
        {
            budget.Deposit();
            if (budget.TryWithdraw(nowMs: 0))
            {
                allowed++;
            }
        }

        Assert.Equal(200, allowed);
    }

    [Fact]
    public void The_reserve_allows_a_few_retries_each_second_without_requests()
    {
        var budget = new RetryBudget(percent: 0, minPerSecond: 3);
        Assert.Equal(3, Enumerable.Range(0, 10).Count(_ => budget.TryWithdraw(nowMs: 5_000)));
        Assert.False(budget.TryWithdraw(nowMs: 5_100));
        // Half a second later, one and a half retries have accrued: one may go.
        Assert.True(budget.TryWithdraw(nowMs: 5_500));
        Assert.False(budget.TryWithdraw(nowMs: 5_500));
    }

    [Fact]
    public void A_quiet_spell_saves_up_at_most_the_balance_cap()
    {
        var budget = new RetryBudget(percent: 100, minPerSecond: 0, balanceMax: 5);
        for (var i = 0; i < 50; i++)
        {
            budget.Deposit();
        }

        Assert.Equal(5, Enumerable.Range(0, 50).Count(_ => budget.TryWithdraw(nowMs: 0)));
    }

    [Fact]
    public void Property_retries_never_exceed_reserve_plus_share_of_requests()
    {
        Gen.Select(Gen.Int[0, 100], Gen.Int[0, 5], Gen.Int[0, 400]).Sample((percent, minPerSecond, requests) =>
        {
            var budget = new RetryBudget(percent, minPerSecond);
            var retries = 0;
            for (var i = 0; i < requests; i++)
            {
                budget.Deposit();
                retries += budget.TryWithdraw(nowMs: 0) ? 1 : 0;
            }

            // All at one instant: the reserve gives at most minPerSecond, deposits at most percent of requests.
            return retries <= minPerSecond + Math.Floor(requests * percent / 100.0 + 1e-9);
        });
    }
}
