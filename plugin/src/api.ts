// The daemon's API bodies (schemas/openapi.json). Positions are 0-based lines and UTF-16
// code units: what CodeMirror and Obsidian's Editor count, so no conversion is needed.
// Each `*_FIELDS` record must name exactly the type's keys (TypeScript checks that), and
// test/api.test.ts checks those names against the shipped OpenAPI document.

export type Severity = "info" | "warning" | "error";
export const SEVERITIES: readonly Severity[] = ["error", "warning", "info"];

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  new_text: string;
}

export interface FixInfo {
  applicability: "safe" | "unsafe" | "none";
  edits: TextEdit[];
}

export interface ApiDiagnostic {
  path: string;
  range: Range;
  code: string;
  rule: string;
  severity: Severity;
  message: string;
  data: Record<string, unknown>;
  fix: FixInfo | null;
}

export interface DiagnosticsOut {
  diagnostics: ApiDiagnostic[];
}

export interface Status {
  version: number;
  vaultsync: string;
  vault: string;
  pid: number;
  port: number;
  notes: number;
  attachments: number;
  pending: number;
  generation: number;
}

export interface FixRequest {
  paths: string[];
  select: string[];
  dry_run: boolean;
}

export interface FileFix {
  path: string;
  fixed: Record<string, number>;
  diff: string;
}

export interface FixOut {
  dry_run: boolean;
  changed: FileFix[];
  skipped: Record<string, string>;
  remaining: number;
}

export interface RescanOut {
  notes: number;
  attachments: number;
  changed: number;
}

/** Data of the SSE `diagnostics` event. */
export interface DiagnosticsEvent {
  path: string;
  diagnostics: ApiDiagnostic[];
}

/** Data of the SSE `written` event. */
export interface WrittenEvent {
  path: string;
}

type Fields<T> = { readonly [K in keyof Required<T>]: true };

export const POSITION_FIELDS: Fields<Position> = { line: true, character: true };
export const RANGE_FIELDS: Fields<Range> = { start: true, end: true };
export const TEXT_EDIT_FIELDS: Fields<TextEdit> = { range: true, new_text: true };
export const FIX_INFO_FIELDS: Fields<FixInfo> = { applicability: true, edits: true };
export const DIAGNOSTIC_FIELDS: Fields<ApiDiagnostic> = {
  path: true,
  range: true,
  code: true,
  rule: true,
  severity: true,
  message: true,
  data: true,
  fix: true,
};
export const STATUS_FIELDS: Fields<Status> = {
  version: true,
  vaultsync: true,
  vault: true,
  pid: true,
  port: true,
  notes: true,
  attachments: true,
  pending: true,
  generation: true,
};
export const FIX_REQUEST_FIELDS: Fields<FixRequest> = { paths: true, select: true, dry_run: true };
export const FILE_FIX_FIELDS: Fields<FileFix> = { path: true, fixed: true, diff: true };
export const FIX_OUT_FIELDS: Fields<FixOut> = {
  dry_run: true,
  changed: true,
  skipped: true,
  remaining: true,
};
export const RESCAN_OUT_FIELDS: Fields<RescanOut> = { notes: true, attachments: true, changed: true };
