// Form pieces shared by the pages: a labelled field with the server's message for it.
import { useId } from "react";
import { ApiError } from "./api/client";

export function Field(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: string;
  error?: string;
  multiline?: boolean;
  autoComplete?: string;
  required?: boolean;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const common = {
    id,
    value: props.value,
    required: props.required,
    "aria-invalid": props.error ? true : undefined,
    "aria-describedby": props.error ? errorId : undefined,
  };
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={10} onChange={(e) => props.onChange(e.target.value)} />
      ) : (
        <input
          {...common}
          type={props.type ?? "text"}
          autoComplete={props.autoComplete}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {props.error && (
        <p className="field-error" id={errorId}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** The message of an error that belongs to no one field (or to none shown). */
export function FormError({ error, fields = [] }: { error: unknown; fields?: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    const unshown = error.details.filter((d) => !fields.includes(d.path));
    if (error.details.length > 0 && unshown.length === 0) return null;
    return (
      <p className="form-error" role="alert">
        {unshown.length ? unshown.map((d) => d.message).join("; ") : error.message}
      </p>
    );
  }
  return (
    <p className="form-error" role="alert">
      Something went wrong: {String(error)}
    </p>
  );
}

export const fieldError = (error: unknown, path: string) => (error instanceof ApiError ? error.about(path) : undefined);

/** For a 429: how long to wait, in words ("Too many requests: try again in 2 minutes."). */
export function tooSoon(error: unknown): string | undefined {
  if (!(error instanceof ApiError) || error.status !== 429) return undefined;
  const s = error.retryAfter;
  if (s === undefined) return "Too many requests: try again later.";
  const n = Math.max(1, s);
  const when = n < 90 ? `${n} second${n === 1 ? "" : "s"}` : `${Math.ceil(n / 60)} minutes`;
  return `Too many requests: try again in ${when}.`;
}
