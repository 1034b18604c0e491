// The algorithm's property tests keep both cores busy for seconds; grain tests run beside them would see their calls
// starve past the grain methods' 1 s response timeouts. The whole assembly takes seconds when run one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
