"""Browser end-to-end tests: Playwright driving Chromium against real server processes."""
