// Each test starts real silos and edges; running them side by side on two cores would only make them flaky.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
