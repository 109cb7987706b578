//! (being written: vpcd virtual card server)
