// The API's OpenAPI document, drawn by Swagger UI (served from this server, not a CDN).
globalThis.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
});
