#pragma once

namespace tg {

/// tapegrad's version, "MAJOR.MINOR.PATCH" (recorded in every file it saves).
const char* version();

}  // namespace tg
