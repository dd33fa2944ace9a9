using Microsoft.Extensions.Options;

namespace Blueprint.Hosting;

/// <summary>The node-level rules that need the module catalog: every name in <c>--modules</c> exists.</summary>
internal sealed class NodeOptionsValidator(ModuleCatalog catalog) : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options)
    {
        var key = $"{NodeOptions.Section}:{nameof(NodeOptions.Modules)} = '{options.Modules}'";
        var unknown = options.ModuleNames.Where(module => !catalog.Names.Contains(module)).ToArray();
        if (unknown.Length > 0)
        {
            return ValidateOptionsResult.Fail($"{key}: unknown module(s) {string.Join(", ", unknown)}; available: {string.Join(", ", catalog.Names)}");
        }

        var selected = options.ModuleNames.Count == 0 ? catalog.Names : options.ModuleNames;
        var missing = catalog.Modules
            .Where(module => selected.Contains(module.Name))
            .SelectMany(module => module.Requires.Where(required => !selected.Contains(required)).Select(required => $"{module.Name} needs {required}"))
            .ToArray();
        return missing.Length == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{key}: {string.Join("; ", missing)}; add it to the list");
    }
}
