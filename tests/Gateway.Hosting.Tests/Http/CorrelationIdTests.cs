using Gateway.Hosting.Http;

namespace Gateway.Hosting.Tests.Http;

public sealed class CorrelationIdTests
{
    [Theory]
    [InlineData("abc123", true)]
    [InlineData("A.b_c-9", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("semi;colon", false)]
    [InlineData("ünïcode", false)]
    public void IsValid_Values_MatchContractCharset(string value, bool expected)
    {
        Assert.Equal(expected, CorrelationId.IsValid(value));
    }

    [Fact]
    public void IsValid_LengthLimit_Is128()
    {
        Assert.True(CorrelationId.IsValid(new string('a', 128)));
        Assert.False(CorrelationId.IsValid(new string('a', 129)));
    }

    [Fact]
    public void New_Id_IsValidAndUnique()
    {
        var a = CorrelationId.New();
        var b = CorrelationId.New();

        Assert.True(CorrelationId.IsValid(a));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void New_IdsAcrossSeveralRandomBlocks_Are32LowerHexDigitsAndDistinct()
    {
        // A thread takes random bytes for 32 ids at a time: 100 ids cross three refills.
        var ids = Enumerable.Range(0, 100).Select(_ => CorrelationId.New()).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }
}
