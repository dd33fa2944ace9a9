using Blueprint.Hosting;
using Microsoft.Extensions.Options;

namespace Blueprint.Node;

/// <summary>The node-level rules that need the module catalog: every name in <c>--modules</c> exists.</summary>
internal sealed class NodeOptionsValidator : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options)
    {
        var unknown = options.ModuleNames.Where(module => !ModuleCatalog.Names.Contains(module)).ToArray();
        return unknown.Length == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{NodeOptions.Section}:{nameof(NodeOptions.Modules)} = '{options.Modules}': unknown module(s) {string.Join(", ", unknown)}; available: {string.Join(", ", ModuleCatalog.Names)}");
    }
}
