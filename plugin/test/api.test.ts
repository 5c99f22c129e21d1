// The plugin's API types name exactly the fields of the daemon's shipped OpenAPI document.
import { readFileSync } from "fs";
import { describe, expect, it } from "vitest";
import * as api from "../src/api";

interface Schema {
  properties?: Record<string, { enum?: string[]; anyOf?: { $ref?: string }[] }>;
  required?: string[];
}

const document = JSON.parse(readFileSync(new URL("../../schemas/openapi.json", import.meta.url), "utf8")) as {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, Schema> };
};

const PAIRS: [string, Record<string, true>][] = [
  ["Position", api.POSITION_FIELDS],
  ["Range", api.RANGE_FIELDS],
  ["TextEdit", api.TEXT_EDIT_FIELDS],
  ["FixInfo", api.FIX_INFO_FIELDS],
  ["DiagnosticOut", api.DIAGNOSTIC_FIELDS],
  ["Status", api.STATUS_FIELDS],
  ["FixRequest", api.FIX_REQUEST_FIELDS],
  ["FileFix", api.FILE_FIX_FIELDS],
  ["FixOut", api.FIX_OUT_FIELDS],
  ["RescanOut", api.RESCAN_OUT_FIELDS],
];

describe("API types", () => {
  it.each(PAIRS)("%s has the fields of schemas/openapi.json", (name, fields) => {
    const schema = document.components.schemas[name];
    expect(schema, name).toBeDefined();
    expect(Object.keys(fields).sort()).toEqual(Object.keys(schema?.properties ?? {}).sort());
  });

  it("the severities are the daemon's", () => {
    const severity = document.components.schemas.DiagnosticOut?.properties?.severity?.enum;
    expect([...(severity ?? [])].sort()).toEqual([...api.SEVERITIES].sort());
  });

  it("the endpoints the plugin calls exist", () => {
    for (const path of ["/v1/status", "/v1/diagnostics", "/v1/fix", "/v1/rescan", "/v1/events"]) {
      expect(document.paths, path).toHaveProperty([path]);
    }
  });
});
