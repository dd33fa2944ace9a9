using System.Runtime.CompilerServices;

// The bug switches of the Raft core (RaftConfig.Bugs) are internal: only the simulator and its tests may set them.
[assembly: InternalsVisibleTo("Blueprint.Simulation")]
[assembly: InternalsVisibleTo("Blueprint.Raft.Tests")]
