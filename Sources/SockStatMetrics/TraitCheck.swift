// This target is built only when a product of it is used; without its trait
// it would be an empty module and every use an unexplained "cannot find".
#if !Metrics
#error("SockStatMetrics needs the package trait Metrics, which is on by default: depend on SockStatLog without `traits: []`, or with `traits: [\"Metrics\"]`")
#endif
