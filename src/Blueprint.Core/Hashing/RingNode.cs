namespace Blueprint.Core.Hashing;

/// <summary>A node on a <see cref="HashRing{TNode}"/> with its weight.</summary>
/// <typeparam name="TNode">The node type.</typeparam>
/// <param name="Node">The node.</param>
/// <param name="Weight">The weight; the node gets <c>Weight × VirtualNodesPerWeight</c> points on the ring.</param>
public readonly record struct RingNode<TNode>(TNode Node, int Weight);
