/**
 * One CalendarProvider over a user's connections of every kind: each call goes to the provider
 * of the connection it names (Google, CalDAV or an ICS feed), so the engine, push and the account pages stay
 * unaware of which service a calendar lives at.
 */
import { type ConnectionKind, getConnectionEntry } from "../db/connections.ts";
import type { CalendarProvider } from "../sync/provider.ts";

export type ProvidersByKind = Record<ConnectionKind, CalendarProvider>;

export function providerByConnection(
  kv: Deno.Kv,
  userId: string,
  providers: ProvidersByKind,
): CalendarProvider {
  // A connection keeps its kind for life: one read per connection and provider instance.
  const kinds = new Map<string, Promise<ConnectionKind>>();
  const of = async (connectionId: string): Promise<CalendarProvider> => {
    let kind = kinds.get(connectionId);
    if (!kind) {
      // An unknown connection goes to Google's provider, whose errors already say "reconnect".
      kind = getConnectionEntry(kv, userId, connectionId).then((e) =>
        e?.connection.kind ?? "google"
      );
      kinds.set(connectionId, kind);
    }
    return providers[await kind];
  };
  const google = providers.google;
  return {
    listCalendars: async (connectionId) => (await of(connectionId)).listCalendars(connectionId),
    listChanges: async (cal, cursor, window) =>
      (await of(cal.connectionId)).listChanges(cal, cursor, window),
    putMirror: async (cal, id, mirror, options) =>
      (await of(cal.connectionId)).putMirror(cal, id, mirror, options),
    deleteMirror: async (cal, id) => (await of(cal.connectionId)).deleteMirror(cal, id),
    listInstances: async (cal, seriesId, window) =>
      (await of(cal.connectionId)).listInstances(cal, seriesId, window),
    async *listMarked(cal, key, value) {
      yield* (await of(cal.connectionId)).listMarked(cal, key, value);
    },
    ...(google.watch
      ? {
        watch: async (cal, channel) => {
          const provider = await of(cal.connectionId);
          if (!provider.watch) throw new Error("this calendar's service has no push");
          return await provider.watch(cal, channel);
        },
      }
      : {}),
    ...(google.stopChannel
      ? {
        stopChannel: async (connectionId, channel) => {
          const provider = await of(connectionId);
          await provider.stopChannel?.(connectionId, channel);
        },
      }
      : {}),
  };
}
