// What every --watch loop shares: Ctrl-C (SIGINT, SIGTERM) ends it at the next
// pause instead of killing the program mid-output, and pauses sleep in short steps
// so that it ends promptly. Process-wide; one watch loop at a time.
#pragma once

#include <string>

namespace sockscope::cli::watch {

// Routes SIGINT and SIGTERM to interrupted() for the rest of the run.
void catch_interrupts();
// Sleeps `seconds` in steps of 0.1 s; false when interrupted meanwhile.
bool pause(double seconds);
bool interrupted();
// "-- 14:02:07": the local time, for the lines between refreshes.
std::string stamp();

}  // namespace sockscope::cli::watch
