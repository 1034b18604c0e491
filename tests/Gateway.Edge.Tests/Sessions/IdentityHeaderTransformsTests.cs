using Gateway.Edge.Sessions;

namespace Gateway.Edge.Tests.Sessions;

public sealed class IdentityHeaderTransformsTests
{
    [Theory]
    [InlineData("X-User-Id")]
    [InlineData("x-user-id")]
    [InlineData("X-USER-TIER")]
    [InlineData("X_User_Id")]
    [InlineData("x_user-roles")]
    [InlineData("X-User_Roles")]
    public void IsIdentityHeader_AnyCaseOrUnderscoreSpelling_True(string name)
    {
        Assert.True(IdentityHeaderTransforms.IsIdentityHeader(name));
    }

    [Theory]
    [InlineData("X-User")]
    [InlineData("X-User-Ids")]
    [InlineData("X-User-Name")]
    [InlineData("XUserId")]
    [InlineData("Authorization")]
    public void IsIdentityHeader_OtherNames_False(string name)
    {
        Assert.False(IdentityHeaderTransforms.IsIdentityHeader(name));
    }
}
