/** Templates as the company writes them, and as the Frontline app receives them. */

/** One template as loaded (placeholders unfilled). */
export interface TemplateRecord {
  content: string;
  /** The wire spelling: WhatsApp-approved templates may be sent outside the 24-hour session. */
  whatsAppApproved: boolean;
}

/** One category as loaded and exported, in the company's order. */
export interface CategoryRecord {
  display_name: string;
  templates: TemplateRecord[];
}

/** What GetTemplatesByCustomerId returns: categories of filled-in templates. */
export interface TemplateCategory {
  display_name: string;
  templates: Array<{ content: string; whatsAppApproved: boolean }>;
}

/** A category as the admin API shows it: with the stable ids of the category and its templates. */
export interface StoredCategory {
  id: string;
  display_name: string;
  templates: Array<TemplateRecord & { id: string }>;
}
