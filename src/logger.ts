import { pino, type Logger } from "pino";

export type { Logger };

/** JSON logs; anything that could hold a secret is redacted even if a caller passes it by mistake. */
export function createLogger(level: string = "info"): Logger {
  return pino({
    level,
    base: { service: "gitlab-mattermost-bot" },
    redact: {
      paths: [
        "token", "*.token", "secret", "*.secret", "password", "*.password", "authorization", "*.authorization",
        "headers['x-gitlab-token']", "*.headers['x-gitlab-token']", "accessToken", "*.accessToken", "refreshToken", "*.refreshToken",
      ],
      censor: "[redacted]",
    },
  });
}
