//! signal drills: owned by the signals helper
