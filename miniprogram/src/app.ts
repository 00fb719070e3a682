/**
 * The app: nothing global but the session, which lives in wx storage (lib/session.ts); pages
 * sign in on their own when they find none.
 */
App({
  onLaunch() {
    // Language and text size are read per page (lib/page.ts); the session is checked by the
    // first API call of the home page.
  },
});
