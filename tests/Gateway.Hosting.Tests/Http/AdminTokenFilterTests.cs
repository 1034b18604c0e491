using System.Text;
using Gateway.Hosting.Http;

namespace Gateway.Hosting.Tests.Http;

public sealed class AdminTokenFilterTests
{
    private readonly AdminTokenFilter _filter = new("let-me-in-0123456789");

    [Fact]
    public void IsAuthorized_BearerWithToken_IsTrue() =>
        Assert.True(_filter.IsAuthorized("Bearer let-me-in-0123456789"));

    [Fact]
    public void IsAuthorized_BasicWithTokenAsPassword_IsTrue() =>
        Assert.True(_filter.IsAuthorized("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:let-me-in-0123456789"))));

    [Theory]
    [InlineData("")]
    [InlineData("Bearer wrong")]
    [InlineData("Bearer let-me-in-012345678")]
    [InlineData("Basic !!notbase64")]
    [InlineData("Digest let-me-in-0123456789")]
    public void IsAuthorized_Other_IsFalse(string header) =>
        Assert.False(_filter.IsAuthorized(header));

    [Fact]
    public void IsAuthorized_NoTokenConfigured_IsFalse() =>
        Assert.False(new AdminTokenFilter(null).IsAuthorized("Bearer anything"));
}
