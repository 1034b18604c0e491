namespace Gateway.Edge.Sessions;

/// <summary>The <c>reason</c> label of <c>gateway_auth_failures_total</c> and the <c>reason</c> member of 401 answers.</summary>
internal static class AuthFailureReason
{
    public const string Missing = "missing";
    public const string Malformed = "malformed";
    public const string BadSignature = "bad_signature";
    public const string Expired = "expired";
    public const string Revoked = "revoked";
    public const string InvalidCredentials = "invalid_credentials";
}
