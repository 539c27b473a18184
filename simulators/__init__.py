"""Device simulators: physically plausible models of elevators, fire systems, water supply and drainage,
fault injection with a ground-truth log, and a load generator. See docs/simulators.md."""
