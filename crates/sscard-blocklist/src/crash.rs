//! The points where a simulated crash can stop a store update (tests of its atomicity).

/// Where a simulated crash stops an update (tests of the atomic update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// Half of the update's temporary file written.
    UpdateTorn,
    /// The update's temporary file written and flushed, not renamed.
    UpdateWritten,
    /// The update renamed into place; `CURRENT` not yet rewritten.
    UpdateRenamed,
    /// Half of the new `CURRENT`'s temporary file written.
    PointerTorn,
    /// The new `CURRENT` written to its temporary file, not renamed.
    PointerWritten,
    /// The new `CURRENT` renamed into place; the old files not yet removed.
    PointerRenamed,
}

impl CrashPoint {
    /// Every crash point, in the order an update passes them.
    pub const ALL: [CrashPoint; 6] = [
        CrashPoint::UpdateTorn,
        CrashPoint::UpdateWritten,
        CrashPoint::UpdateRenamed,
        CrashPoint::PointerTorn,
        CrashPoint::PointerWritten,
        CrashPoint::PointerRenamed,
    ];
}
