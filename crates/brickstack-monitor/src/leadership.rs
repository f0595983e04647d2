//! Which replica acts: the serve crate's election sets it, the monitor and the access worker read it.

/// The election's result as this replica sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leadership {
    /// This replica holds the lease: it polls, recovers and runs the access worker.
    pub active: bool,
    /// The lease's holder when known (this replica's id when active).
    pub leader: Option<String>,
}
