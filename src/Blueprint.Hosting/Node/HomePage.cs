using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Blueprint.Hosting;

/// <summary><c>/</c>: a small page listing the running modules, their endpoints and the cheat-sheet rows they make real.</summary>
internal static class HomePage
{
    public static void Map(WebApplication app, IReadOnlyList<IBlueprintModule> modules, Func<IServiceProvider, IReadOnlyList<ActiveListener>> listeners)
    {
        app.MapGet("/", (HttpContext context) =>
        {
            var html = Render(modules, listeners(context.RequestServices), context.RequestServices);
            return Results.Content(html, "text/html; charset=utf-8");
        }).ExcludeFromDescription();
    }

    private static string Render(IReadOnlyList<IBlueprintModule> modules, IReadOnlyList<ActiveListener> listeners, IServiceProvider services)
    {
        var page = new StringBuilder();
        page.Append("""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Blueprint node</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>
            body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
            table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
            code{background:#f4f4f4;padding:0 .2rem}
            </style></head><body>
            """);
        page.Append("<h1>Blueprint node</h1><p>Version ").Append(Encode(BlueprintVersion.Current))
            .Append(". The system-design cheat sheet made real: every module speaks a protocol a production engine also speaks.</p>");
        page.Append("""
            <h2>Node</h2><ul>
            <li><a href="/healthz">/healthz</a> — liveness</li>
            <li><a href="/readyz">/readyz</a> — readiness of every engine</li>
            <li><a href="/metrics">/metrics</a> — Prometheus metrics</li>
            <li><a href="/openapi/v1.json">/openapi/v1.json</a> and <a href="/api">/api</a> — the HTTP API and its reference</li>
            </ul><h2>Modules</h2>
            <table><thead><tr><th>Module</th><th>What</th><th>Endpoints</th><th>Cheat-sheet rows</th></tr></thead><tbody>
            """);
        foreach (var module in modules)
        {
            page.Append("<tr><td><b>").Append(Encode(module.Name)).Append("</b></td><td>").Append(Encode(module.Description)).Append("</td><td>");
            foreach (var endpoint in BlueprintNode.Describe(module, listeners, services))
            {
                page.Append(Encode(endpoint.Name)).Append(": <code>").Append(Encode(endpoint.Address)).Append("</code>");
                if (endpoint.Hint.Length > 0)
                {
                    page.Append("<br>try <code>").Append(Encode(endpoint.Hint)).Append("</code>");
                }

                page.Append("<br>");
            }

            page.Append("</td><td>").Append(Encode(string.Join(", ", module.CheatSheetRows))).Append("</td></tr>");
        }

        page.Append("</tbody></table></body></html>");
        return page.ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
