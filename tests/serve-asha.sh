#!/bin/sh
# serve-asha.sh - an asha search in `lstmsweep serve`, whole, beside a grid
# of the same configurations, the server killed twice while it runs
# (tests/serve-asha.py says what is checked).  About a minute on 2 cores.
ASHA_TEST=serve-asha.py exec sh "${srcdir:-.}/tests/asha.sh"
