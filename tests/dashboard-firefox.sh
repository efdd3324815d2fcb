#!/usr/bin/env bash
# dashboard-firefox.sh - tests/dashboard.sh's checks in Debian's firefox-esr
# (puppeteer-core over WebDriver BiDi).  Skips (77) without firefox-esr,
# node or the npm driver (scripts/install-deps --browser installs them).
DASHBOARD_BROWSER=firefox exec bash "${top_srcdir:-.}/tests/dashboard.sh" "$@"
