using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Dstar.View.Server;

/// <summary>
/// The bearer-token check in front of every request when the view has a token. A request passes with
/// <c>Authorization: Bearer TOKEN</c>, with the cookie the gate sets, or once with <c>?token=TOKEN</c> (how a browser
/// opens the page): that sets an HttpOnly, SameSite=Strict cookie and redirects to the same address without the token,
/// so the token stays out of the page, the history and any referrer. Anything else gets 401.
/// </summary>
internal sealed class TokenGate(string token)
{
    /// <summary>The cookie that carries the token after the first visit.</summary>
    public const string CookieName = "dstar_view";

    private readonly byte[] _token = Encoding.UTF8.GetBytes(token);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        string? header = request.Headers.Authorization;
        bool valid = header is not null && header.StartsWith("Bearer ", StringComparison.Ordinal) && Matches(header["Bearer ".Length..].Trim())
            || (request.Cookies.TryGetValue(CookieName, out var cookie) && Matches(cookie));
        if (!valid && request.Query.TryGetValue("token", out var query) && query.Count == 1 && Matches(query[0]))
        {
            context.Response.Cookies.Append(CookieName, query[0]!, new CookieOptions
            {
                HttpOnly = true,
                Secure = request.IsHttps,
                SameSite = SameSiteMode.Strict,
                Path = "/",
            });
            var rest = request.Query.Where(p => p.Key != "token").Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value.ToString())}");
            var location = request.PathBase + request.Path + (rest.Any() ? "?" + string.Join("&", rest) : "");
            context.Response.Redirect(location);
            return;
        }

        if (!valid)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"dstar view\"";
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("401 Unauthorized: this view needs its bearer token (Authorization: Bearer TOKEN, or open the page once with ?token=TOKEN).\n");
            return;
        }

        await next(context);
    }

    private bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _token);
}
