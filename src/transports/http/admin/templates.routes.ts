/** `/api/v1/template-categories` and `/api/v1/templates`: the company's templates, in order, and their preview. */
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import { Type, type Static } from 'typebox';
import type { AdminServices } from '../../../application/admin/admin.services.js';
import { categoryProblems, templateProblems } from '../../../application/admin/templates.service.js';
import { errors, IfMatchHeaders } from './schemas.js';
import { sendTagged, writeContext } from './reply.js';

const TAG = ['templates'];

const TemplateIn = Type.Object(
  { content: Type.String({ description: 'with placeholders such as {{customer.first_name}}' }), whatsAppApproved: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const StoredTemplate = Type.Object({ id: Type.String(), content: Type.String(), whatsAppApproved: Type.Boolean() });
export const CategorySchema = Type.Object(
  { id: Type.String(), display_name: Type.String(), templates: Type.Array(StoredTemplate) },
  { $id: 'TemplateCategory' },
);
const categoryRef = Type.Ref('TemplateCategory');
export const TemplateSchema = Type.Object(
  { id: Type.String(), category_id: Type.String(), content: Type.String(), whatsAppApproved: Type.Boolean() },
  { $id: 'Template' },
);
const templateRef = Type.Ref('Template');
const CategoriesSchema = Type.Object({ categories: Type.Array(categoryRef) });

const position = Type.Optional(Type.Integer({ minimum: 0, description: 'place in the order, 0 first (default: last)' }));
const CategoryCreate = Type.Object(
  { display_name: Type.String(), templates: Type.Array(TemplateIn, { minItems: 1 }), position },
  { additionalProperties: false },
);
const CategoryPatch = Type.Object({ display_name: Type.Optional(Type.String()), position }, { additionalProperties: false });
const TemplateCreate = Type.Object({ ...TemplateIn.properties, position }, { additionalProperties: false });
const TemplateReplace = Type.Object(
  { ...TemplateIn.properties, category_id: Type.Optional(Type.String({ description: 'move it to the end of this category' })) },
  { additionalProperties: false },
);
const TemplatePatch = Type.Object(
  { content: Type.Optional(Type.String()), whatsAppApproved: Type.Optional(Type.Boolean()), category_id: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
const Order = Type.Object({ ids: Type.Array(Type.String(), { description: 'every id, once, in the new order' }) }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const PreviewQuery = Type.Object(
  { customer_id: Type.String({ minLength: 1, maxLength: 255 }), worker: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
);
const PreviewDraft = Type.Object(
  { content: Type.String(), customer_id: Type.String({ minLength: 1, maxLength: 255 }), worker: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
);
const PreviewSchema = Type.Object({
  content: Type.Union([Type.String(), Type.Null()], { description: 'null: the callback leaves this template out for this customer (a placeholder has no value)' }),
});
const CallbackPreviewSchema = Type.Object({
  categories: Type.Array(Type.Object({ display_name: Type.String(), templates: Type.Array(Type.Object({ content: Type.String(), whatsAppApproved: Type.Boolean() })) })),
  omitted: Type.Integer({ description: 'templates left out for this customer' }),
});

export function templateRoutes(app: FastifyInstance, admin: AdminServices): void {
  app.get('/template-categories', {
    schema: { tags: TAG, summary: 'Every category with its templates, in order (with the list’s ETag)', response: { 200: CategoriesSchema, ...errors() } },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.list()));

  app.post<{ Body: Static<typeof CategoryCreate> }>('/template-categories', {
    schema: { tags: TAG, summary: 'Create a category with its first templates (409 when the name is taken)', body: CategoryCreate, response: { 201: categoryRef, ...errors(400, 403, 409, 413, 415) } },
    config: { problemsOf: categoryProblems },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.createCategory(request.body, writeContext(request)), 201));

  app.put<{ Body: Static<typeof Order> }>('/template-categories/order', {
    schema: { tags: TAG, summary: 'Reorder the categories (If-Match: the list’s ETag)', headers: IfMatchHeaders, body: Order, response: { 200: CategoriesSchema, ...errors(400, 403, 409, 412, 415) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.orderCategories(request.body.ids, writeContext(request))));

  app.get<{ Params: Static<typeof IdParams> }>('/template-categories/:id', {
    schema: { tags: TAG, summary: 'Read a category', params: IdParams, response: { 200: categoryRef, ...errors(404) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.getCategory(request.params.id)));

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof CategoryPatch> }>('/template-categories/:id', {
    schema: { tags: TAG, summary: 'Rename or move a category (If-Match: its ETag)', params: IdParams, headers: IfMatchHeaders, body: CategoryPatch, response: { 200: categoryRef, ...errors(400, 403, 404, 409, 412, 415) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.updateCategory(request.params.id, request.body, writeContext(request))));

  app.delete<{ Params: Static<typeof IdParams> }>('/template-categories/:id', {
    schema: { tags: TAG, summary: 'Delete a category and its templates (If-Match: its ETag)', params: IdParams, headers: IfMatchHeaders, response: { 204: { type: 'null', description: 'deleted' }, ...errors(403, 404, 412) } },
  }, async (request, reply) => {
    await admin.templates.deleteCategory(request.params.id, writeContext(request));
    return reply.status(204).send();
  });

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof TemplateCreate> }>('/template-categories/:id/templates', {
    schema: { tags: TAG, summary: 'Add a template to a category', params: IdParams, body: TemplateCreate, response: { 201: templateRef, ...errors(400, 403, 404, 409, 413, 415) } },
    config: { problemsOf: templateProblems },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.createTemplate(request.params.id, request.body, writeContext(request)), 201));

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof Order> }>('/template-categories/:id/templates/order', {
    schema: { tags: TAG, summary: 'Reorder a category’s templates (If-Match: the category’s ETag)', params: IdParams, headers: IfMatchHeaders, body: Order, response: { 200: categoryRef, ...errors(400, 403, 404, 409, 412, 415) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.orderTemplates(request.params.id, request.body.ids, writeContext(request))));

  app.get<{ Querystring: Static<typeof PreviewQuery> }>('/templates/preview', {
    schema: { tags: TAG, summary: 'Every template filled for a customer and a rep: exactly what the templates callback answers', querystring: PreviewQuery, response: { 200: CallbackPreviewSchema, ...errors(400, 404) } },
  }, async (request) => admin.templates.previewAll(request.query.worker, request.query.customer_id));

  app.post<{ Body: Static<typeof PreviewDraft> }>('/templates/preview', {
    schema: { tags: TAG, summary: 'A draft template filled for a customer and a rep, as the callback would fill it (read-only tokens may call it)', body: PreviewDraft, response: { 200: PreviewSchema, ...errors(400, 404, 413, 415) } },
    config: { readOnly: true },
  }, async (request) => ({ content: (await admin.templates.preview(request.body.worker, request.body.customer_id, request.body.content)) ?? null }));

  app.get<{ Params: Static<typeof IdParams> }>('/templates/:id', {
    schema: { tags: TAG, summary: 'Read a template', params: IdParams, response: { 200: templateRef, ...errors(404) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.getTemplate(request.params.id)));

  app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof PreviewQuery> }>('/templates/:id/preview', {
    schema: { tags: TAG, summary: 'A stored template filled for a customer and a rep, as the callback would fill it', params: IdParams, querystring: PreviewQuery, response: { 200: PreviewSchema, ...errors(400, 404) } },
  }, async (request) => {
    const template = await admin.templates.getTemplate(request.params.id);
    return { content: (await admin.templates.preview(request.query.worker, request.query.customer_id, template.value.content)) ?? null };
  });

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof TemplateReplace> }>('/templates/:id', {
    schema: { tags: TAG, summary: 'Replace a template (If-Match: its ETag)', params: IdParams, headers: IfMatchHeaders, body: TemplateReplace, response: { 200: templateRef, ...errors(400, 403, 404, 409, 412, 413, 415) } },
    config: { problemsOf: templateProblems },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.updateTemplate(request.params.id, request.body, true, writeContext(request))));

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof TemplatePatch> }>('/templates/:id', {
    schema: { tags: TAG, summary: 'Change a template’s content, approval or category (If-Match: its ETag)', params: IdParams, headers: IfMatchHeaders, body: TemplatePatch, response: { 200: templateRef, ...errors(400, 403, 404, 409, 412, 413, 415) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.templates.updateTemplate(request.params.id, request.body, false, writeContext(request))));

  app.delete<{ Params: Static<typeof IdParams> }>('/templates/:id', {
    schema: { tags: TAG, summary: 'Delete a template (409 for a category’s last one: delete the category)', params: IdParams, headers: IfMatchHeaders, response: { 204: { type: 'null', description: 'deleted' }, ...errors(403, 404, 409, 412) } },
  }, async (request, reply) => {
    await admin.templates.deleteTemplate(request.params.id, writeContext(request));
    return reply.status(204).send();
  });
}
