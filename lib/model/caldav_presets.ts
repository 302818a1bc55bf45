/**
 * Where the CalDAV services people use most keep their calendars, so connecting one asks only
 * for a user name and an app password. Discovery still runs from these addresses: iCloud moves
 * each account to its own `pNN-caldav` host, which must never be written down here.
 */

export const CALDAV_PRESETS = ["icloud", "fastmail", "nextcloud", "other"] as const;
export type CalDavPreset = (typeof CALDAV_PRESETS)[number];

interface PresetInfo {
  label: string;
  /** The address discovery starts at; absent: the person gives the server's address. */
  serverUrl?: string;
  /** Where the person makes the app password, in a sentence. */
  passwordHelp: string;
}

export const PRESET_INFO: Record<CalDavPreset, PresetInfo> = {
  icloud: {
    label: "iCloud",
    serverUrl: "https://caldav.icloud.com/",
    passwordHelp: "Your Apple Account address, and an app-specific password made at " +
      "account.apple.com → Sign-In and Security → App-Specific Passwords (it needs two-factor " +
      "authentication; changing your Apple Account password revokes it).",
  },
  fastmail: {
    label: "Fastmail",
    serverUrl: "https://caldav.fastmail.com/",
    passwordHelp: "Your Fastmail address, and an app password made at Settings → Privacy & " +
      "Security → App passwords, with access to calendars (CalDAV).",
  },
  nextcloud: {
    label: "Nextcloud",
    passwordHelp: "Your Nextcloud address (e.g. https://cloud.example.com), your user name, and " +
      "an app password made at Personal settings → Security → Devices & sessions.",
  },
  other: {
    label: "Other CalDAV server",
    passwordHelp: "The server's address, your user name, and your password (an app password " +
      "where the server offers them).",
  },
};
