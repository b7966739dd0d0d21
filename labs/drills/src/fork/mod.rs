//! fork drills: owned by the fork helper
