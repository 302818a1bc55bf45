/**
 * Google's calendar colour palette as `colors.get` returns it (its `calendar` section: ids "1" to
 * "24", each a background and the foreground `#1d1d1d`). A calendarList entry carries its
 * `colorId` and the matching `backgroundColor`/`foregroundColor`; the colour belongs to the
 * entry, so one shared calendar can have a different colour in each person's list.
 */
export const CALENDAR_COLORS: Record<string, string> = {
  "1": "#ac725e",
  "2": "#d06b64",
  "3": "#f83a22",
  "4": "#fa573c",
  "5": "#ff7537",
  "6": "#ffad46",
  "7": "#42d692",
  "8": "#16a765",
  "9": "#7bd148",
  "10": "#b3dc6c",
  "11": "#fbe983",
  "12": "#fad165",
  "13": "#92e1c0",
  "14": "#9fe1e7",
  "15": "#9fc6e7",
  "16": "#4986e7",
  "17": "#9a9cff",
  "18": "#b99aff",
  "19": "#c2c2c2",
  "20": "#cabdbf",
  "21": "#cca6ac",
  "22": "#f691b2",
  "23": "#cd74e6",
  "24": "#a47ae2",
};

export const CALENDAR_FOREGROUND = "#1d1d1d";

/**
 * The colour Google gives a calendar added to a list without one chosen: it picks from the
 * palette; here a hash of the calendar id, so a seed's calendars differ and stay the same.
 */
export function defaultColorId(calendarId: string): string {
  let h = 0;
  for (const ch of calendarId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return String((h % 24) + 1);
}
