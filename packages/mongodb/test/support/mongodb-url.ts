/** `mongodb://[user:pass@]host[:port][,host…][/db][?options]`. */
const MONGODB_URL = /^mongodb:\/\/([^@/?]*@)?([^/?]+)(\/[^?]*)?(?:\?(.*))?$/;

function parse(url: string): RegExpExecArray {
  const match = MONGODB_URL.exec(url);
  if (!match)
    throw new Error("MONGODB_URL must be a mongodb:// URL (mongodb+srv:// cannot be relayed)");
  return match;
}

/** The first `host[:port]` of a connection string. */
export function firstHost(url: string): string {
  return (parse(url)[2] as string).split(",")[0] as string;
}

/**
 * The same deployment through a relay on 127.0.0.1:`port`: credentials, database and options are
 * kept; the client connects directly to the one server behind the relay (`directConnection`),
 * instead of discovering the replica set's members and bypassing the relay.
 */
export function throughProxy(url: string, port: number): string {
  const [, credentials = "", , path = "/", query = ""] = parse(url);
  const params = new URLSearchParams(query);
  params.delete("replicaSet");
  params.set("directConnection", "true");
  return `mongodb://${credentials}127.0.0.1:${port}${path}?${params}`;
}

/** `host:port`, `[v6]:port` or `host` (port 27017). */
export function hostAndPort(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(address);
  if (!match?.[1]) throw new Error(`cannot parse the MongoDB address ${address}`);
  return { host: match[1].replace(/^\[|\]$/g, ""), port: Number(match[2] ?? 27017) };
}
